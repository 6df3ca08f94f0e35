package org.bertserving.server;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Artery over TLS ({@code cluster-conf/tls.conf}): its key and trust stores must be there before
 * the node starts, so that a missing store is one line naming the key, its environment variable and
 * how to make the stores, not an exception from inside Artery's transport.
 */
final class ArteryTls {
  private static final String ENGINE = "akka.remote.artery.ssl.config-ssl-engine.";

  private ArteryTls() {}

  static void check(Config config) {
    if (!config.getString("akka.remote.artery.transport").equals("tls-tcp")) {
      return;
    }
    String[][] stores = {
      {"key-store", "BERT_TLS_KEYSTORE"}, {"trust-store", "BERT_TLS_TRUSTSTORE"}
    };
    for (String[] store : stores) {
      Path file = Path.of(config.getString(ENGINE + store[0]));
      if (!Files.isReadable(file)) {
        throw new IllegalArgumentException(
            ENGINE
                + store[0]
                + " "
                + file.toAbsolutePath()
                + ": no such file (Artery over TLS, cluster-conf/tls.conf): set "
                + store[1]
                + ", or make the stores with ops/bert-serving-tls-stores (README: Cluster over TLS)");
      }
    }
  }
}

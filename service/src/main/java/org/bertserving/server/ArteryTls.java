package org.bertserving.server;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Artery over TLS ({@code cluster-conf/tls.conf}, or {@code tls-pem.conf} on Kubernetes): its key
 * and trust stores (or PEM files) must be there before the node starts, so that a missing store is
 * one line naming the key, its environment variable and how to make the stores, not an exception
 * from inside Artery's transport.
 */
final class ArteryTls {
  private static final String ENGINE = "akka.remote.artery.ssl.config-ssl-engine.";
  private static final String PEM = "akka.remote.artery.ssl.rotating-keys-engine.";
  private static final String PEM_PROVIDER =
      "akka.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider";

  private ArteryTls() {}

  static void check(Config config) {
    if (!config.getString("akka.remote.artery.transport").equals("tls-tcp")) {
      return;
    }
    if (config.getString("akka.remote.artery.ssl.ssl-engine-provider").equals(PEM_PROVIDER)) {
      for (String file : List.of("key-file", "cert-file", "ca-cert-file")) {
        Path path = Path.of(config.getString(PEM + file));
        if (!Files.isReadable(path)) {
          throw new IllegalArgumentException(
              PEM
                  + file
                  + " "
                  + path.toAbsolutePath()
                  + ": no such file (Artery over TLS from PEM files, cluster-conf/tls-pem.conf):"
                  + " mount the Secret bert-serving-akka-tls or set BERT_TLS_PEM_DIR; make the"
                  + " files with ops/bert-serving-tls-pem");
        }
      }
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

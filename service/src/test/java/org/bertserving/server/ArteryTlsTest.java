package org.bertserving.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.awaitility.Awaitility;
import org.bertserving.client.BertClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped multi-node files' Artery over TLS ({@code cluster-conf/tls.conf}) with stores made as
 * the README says ({@code ops/bert-serving-tls-stores}): a frontend and a worker form a cluster and
 * serve; a node whose certificate another CA signed is not let in.
 */
class ArteryTlsTest {
  @TempDir Path tmp;

  static Path root() {
    Path fromModule = Path.of("..");
    return Files.isDirectory(fromModule.resolve("cluster-conf")) ? fromModule : Path.of(".");
  }

  /**
   * Makes stores for {@code nodes} in {@code dir} with the shipped script; returns the password.
   */
  static String stores(Path dir, String... nodes) throws Exception {
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                "bash", root().resolve("ops/bert-serving-tls-stores").toString(), dir.toString()));
    command.addAll(List.of(nodes));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().remove("BERT_TLS_PASSWORD");
    Process p = pb.start();
    try {
      String out = new String(p.getInputStream().readAllBytes());
      assertTrue(p.waitFor(120, TimeUnit.SECONDS), "keytool finished");
      assertEquals(0, p.exitValue(), out);
    } finally {
      p.destroyForcibly();
    }
    return Files.readString(dir.resolve("password")).trim();
  }

  /** A node as tls.conf configures it, with its own key store (as BERT_TLS_KEYSTORE would say). */
  static Config node(Config base, Path stores, String name, String password) {
    return ConfigFactory.parseMap(
            Map.of(
                "akka.remote.artery.ssl.config-ssl-engine.key-store",
                    stores.resolve(name + ".p12").toString(),
                "akka.remote.artery.ssl.config-ssl-engine.trust-store",
                    stores.resolve("trust.p12").toString(),
                "akka.remote.artery.ssl.config-ssl-engine.key-store-password", password))
        .withFallback(ConfigFactory.parseFile(root().resolve("cluster-conf/tls.conf").toFile()))
        .withFallback(base)
        .resolve();
  }

  static long upMembers(BertServer server) {
    return StreamSupport.stream(
            Cluster.get(server.system()).state().getMembers().spliterator(), false)
        .filter(m -> m.status() == MemberStatus.up())
        .count();
  }

  @Test
  void aFrontendAndAWorkerFormAClusterOverTlsAndAStrangerIsKeptOut() throws Exception {
    Path ours = tmp.resolve("ours");
    String password = stores(ours, "frontend", "worker");
    int seed = TestNodes.freePort();
    int http = TestNodes.freePort();
    Config frontendConfig =
        node(
            TestNodes.node(List.of("frontend"), seed, seed, http, Map.of()),
            ours,
            "frontend",
            password);
    assertEquals("tls-tcp", frontendConfig.getString("akka.remote.artery.transport"));
    try (BertServer frontend = BertServer.start(frontendConfig);
        BertServer worker =
            BertServer.start(
                node(
                    TestNodes.node(List.of("worker"), TestNodes.freePort(), seed, 0, Map.of()),
                    ours,
                    "worker",
                    password));
        BertClient client = BertClient.http("127.0.0.1", http)) {
      frontend.started().get(30, TimeUnit.SECONDS);
      TestNodes.awaitWorkers(frontend, 1);
      assertEquals(2, upMembers(frontend));
      assertEquals(2, client.encode(List.of("hello world", "the dog")).length, "jobs crossed TLS");

      Path theirs = tmp.resolve("theirs");
      String other = stores(theirs, "stranger");
      try (BertServer stranger =
          BertServer.start(
              node(
                  TestNodes.node(List.of("worker"), TestNodes.freePort(), seed, 0, Map.of()),
                  theirs,
                  "stranger",
                  other))) {
        Awaitility.await("a certificate of another CA never joins")
            .during(Duration.ofSeconds(6))
            .atMost(Duration.ofSeconds(8))
            .until(() -> upMembers(frontend) == 2 && frontend.metrics().workers.get() == 1);
      }
    }
  }

  @Test
  void aMissingStoreStopsTheStartNamingItsVariable() {
    Config config =
        node(
            TestNodes.node(List.of("frontend", "worker"), TestNodes.freePort(), 0, 0, Map.of()),
            tmp.resolve("nowhere"),
            "node",
            "x");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> BertServer.start(config));
    assertTrue(
        e.getMessage().contains("BERT_TLS_KEYSTORE")
            && e.getMessage().contains("ops/bert-serving-tls-stores"),
        e.getMessage());
  }
}

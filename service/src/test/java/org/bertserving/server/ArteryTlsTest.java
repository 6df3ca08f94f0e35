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
import java.util.stream.StreamSupport;
import org.awaitility.Awaitility;
import org.bertserving.client.BertClient;
import org.bertserving.http.TestCerts;
import org.junit.jupiter.api.Assumptions;
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
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().remove("BERT_TLS_PASSWORD");
    TestNodes.Child child = TestNodes.run(pb, 120);
    assertEquals(0, child.exit(), child.output());
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
    String password = stores(ours, "frontend", "worker", "client");
    formsAClusterAndKeepsAStrangerOut(
        (base, name) -> node(base, ours, name, password),
        () -> {
          Path theirs = tmp.resolve("theirs");
          String other = stores(theirs, "stranger");
          return base -> node(base, theirs, "stranger", other);
        });
  }

  /** How a test makes a node's TLS config from its base config. */
  interface Tls {
    Config apply(Config base, String name) throws Exception;
  }

  /** The stranger's TLS (another CA), made when it is needed. */
  interface Stranger {
    java.util.function.UnaryOperator<Config> make() throws Exception;
  }

  /**
   * A frontend and a worker with {@code tls} form one cluster and serve; a node whose certificate
   * another CA signed starts, tries to join, and is never let in.
   */
  static void formsAClusterAndKeepsAStrangerOut(Tls tls, Stranger stranger) throws Exception {
    Config frontendConfig =
        tls.apply(TestNodes.node(List.of("frontend"), 0, true, Map.of()), "frontend");
    assertEquals("tls-tcp", frontendConfig.getString("akka.remote.artery.transport"));
    try (BertServer frontend = TestNodes.start(frontendConfig)) {
      int seed = frontend.clusterPort();
      joinedOverTls(tls, stranger, frontend, seed);
    }
  }

  private static void joinedOverTls(Tls tls, Stranger stranger, BertServer frontend, int seed)
      throws Exception {
    try (BertServer worker =
            BertServer.start(
                tls.apply(TestNodes.node(List.of("worker"), seed, false, Map.of()), "worker"));
        BertClient client = BertClient.http("127.0.0.1", frontend.httpPort())) {
      TestNodes.awaitWorkers(frontend, 1);
      TestNodes.await(() -> upMembers(frontend) == 2, 30, "both nodes up in one cluster");
      assertEquals(2, client.encode(List.of("hello world", "the dog")).length, "jobs crossed TLS");
      clusterClientsOverTls(tls, seed);
      Config strangerConfig =
          stranger.make().apply(TestNodes.node(List.of("worker"), seed, false, Map.of()));
      try (BertServer intruder = TestNodes.start(strangerConfig)) { // up, and trying to join
        Awaitility.await("a certificate of another CA never joins")
            .during(Duration.ofSeconds(6))
            .atMost(Duration.ofSeconds(8))
            .until(() -> upMembers(frontend) == 2 && frontend.metrics().workers.get() == 1);
      }
    }
  }

  /**
   * The SDK's cluster transport: with a TLS config of its own (a key store the cluster's CA signed)
   * it is answered; speaking plain TCP it fails within seconds, saying what to check.
   */
  private static void clusterClientsOverTls(Tls tls, int seed) throws Exception {
    List<String> contacts = List.of("127.0.0.1:" + seed);
    Config client = tls.apply(ConfigFactory.empty(), "client");
    try (BertClient overTls =
        BertClient.cluster(contacts, "127.0.0.1", Duration.ofSeconds(30), 2, client)) {
      assertEquals(1, overTls.encode(List.of("hello world")).length, "the cluster client over TLS");
    }
    try (BertClient plain =
        BertClient.cluster(
            contacts,
            "127.0.0.1",
            Duration.ofSeconds(60),
            0,
            ConfigFactory.parseString("akka.remote.artery.transport = tcp"))) {
      long start = System.nanoTime();
      org.bertserving.client.BertClientException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              org.bertserving.client.BertClientException.class,
              () -> plain.encode(List.of("hello world")));
      long seconds = (System.nanoTime() - start) / 1_000_000_000L;
      assertTrue(seconds < 30, "told within seconds, not at the 60 s timeout: " + seconds + " s");
      assertTrue(e.getMessage().contains("127.0.0.1:" + seed), e.getMessage());
      assertTrue(e.getMessage().contains("tls-tcp"), e.getMessage());
    }
  }

  /** PEM files for every pod, made as the README says ({@code ops/bert-serving-tls-pem}). */
  static void pem(Path dir) throws Exception {
    TestNodes.Child child =
        TestNodes.run(
            new ProcessBuilder(
                "bash", root().resolve("ops/bert-serving-tls-pem").toString(), dir.toString()),
            120);
    assertEquals(0, child.exit(), child.output());
  }

  /** A pod as kubernetes.conf configures it (tls-pem.conf), its Secret mounted at {@code dir}. */
  static Config pod(Config base, Path dir) {
    return ConfigFactory.parseMap(
            Map.of(
                "akka.remote.artery.ssl.rotating-keys-engine.secret-mount-point", dir.toString()))
        .withFallback(ConfigFactory.parseFile(root().resolve("cluster-conf/tls-pem.conf").toFile()))
        .withFallback(base)
        .resolve();
  }

  @Test
  void podsFormAClusterOverTlsFromPemFilesAndAStrangerIsKeptOut() throws Exception {
    Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl makes the PEM files");
    Path ours = tmp.resolve("pem-ours");
    pem(ours);
    assertEquals(
        "akka.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider",
        pod(ConfigFactory.empty(), ours).getString("akka.remote.artery.ssl.ssl-engine-provider"));
    formsAClusterAndKeepsAStrangerOut(
        (base, name) -> pod(base, ours), // one certificate for every pod
        () -> {
          Path theirs = tmp.resolve("pem-theirs");
          pem(theirs); // the same subject name, another CA
          return base -> pod(base, theirs);
        });
    IllegalArgumentException missing =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                BertServer.start(
                    pod(
                        TestNodes.node(List.of("frontend", "worker"), 0, false, Map.of()),
                        tmp.resolve("no-secret"))));
    assertTrue(
        missing.getMessage().contains("tls.key")
            && missing.getMessage().contains("ops/bert-serving-tls-pem"),
        missing.getMessage());
  }

  @Test
  void aMissingStoreStopsTheStartNamingItsVariable() {
    Config config =
        node(
            TestNodes.node(List.of("frontend", "worker"), 0, false, Map.of()),
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

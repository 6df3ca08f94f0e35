package org.bertserving.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.bertserving.cluster.ServingSettings;
import org.junit.jupiter.api.Test;

/** Every deploy file in cluster-conf/ parses, names only keys that exist, and is accepted. */
class ClusterConfFilesTest {

  static Path dir() {
    Path fromModule = Path.of("..", "cluster-conf");
    return Files.isDirectory(fromModule) ? fromModule : Path.of("cluster-conf");
  }

  static Config load(Path file) {
    return NodeConfig.load(ConfigFactory.parseFile(file.toFile()));
  }

  @Test
  void everyFileIsAValidNodeConfig() throws IOException {
    Config reference = ConfigFactory.defaultReference();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir())) {
      files = s.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
    }
    assertTrue(files.size() >= 10, "files: " + files);
    for (Path file : files) {
      Config config = load(file);
      ServingSettings settings = ServingSettings.create(config);
      if (settings.roles().size() == 1 && settings.seedNodes().isEmpty() && !settings.bootstrap()) {
        // a one-role template (frontend.conf, worker.conf): refused alone, it would be an island
        assertThrows(IllegalArgumentException.class, settings::checkFormation, file.toString());
      } else {
        settings.checkFormation();
        assertTrue(
            settings.bootstrap()
                || settings.seedNodes().size() >= 2
                || settings.roles().size() == 2,
            file + ": several seeds or bootstrap");
      }
      List<String> roles = config.getStringList("akka.cluster.roles");
      assertFalse(roles.isEmpty(), file + ": roles");
      assertTrue(List.of("frontend", "worker").containsAll(roles), file + ": roles " + roles);
      Config own =
          ConfigFactory.parseFile(file.toFile())
              .resolve(ConfigResolveOptions.defaults().setAllowUnresolved(true));
      for (var entry : own.entrySet()) {
        String key = entry.getKey();
        if (key.startsWith("bert-serving.")) {
          assertTrue(reference.hasPath(key), file + ": unknown key " + key);
        }
      }
    }
  }

  @Test
  void theLocalClusterIsTwoWorkersAndOneOrTwoFrontendsOnLoopbackWithTheSameSeeds()
      throws IOException {
    List<String> all =
        List.of(
            "akka://bert-serving@127.0.0.1:25520",
            "akka://bert-serving@127.0.0.1:25521",
            "akka://bert-serving@127.0.0.1:25522");
    Config one = load(dir().resolve("local1.conf"));
    assertEquals(List.of("frontend"), one.getStringList("akka.cluster.roles"));
    assertEquals(25520, one.getInt("akka.remote.artery.canonical.port"));
    assertEquals(8125, one.getInt("bert-serving.http.port"));
    assertEquals(all, one.getStringList("akka.cluster.seed-nodes"));
    List<Integer> managementPorts =
        new java.util.ArrayList<>(List.of(one.getInt("bert-serving.management.port")));
    for (int n = 2; n <= 3; n++) {
      Config worker = load(dir().resolve("local" + n + ".conf"));
      assertEquals(List.of("worker"), worker.getStringList("akka.cluster.roles"));
      assertEquals(25520 + n - 1, worker.getInt("akka.remote.artery.canonical.port"));
      assertEquals("127.0.0.1", worker.getString("akka.remote.artery.canonical.hostname"));
      assertEquals(
          all, worker.getStringList("akka.cluster.seed-nodes"), "the same list everywhere");
      assertFalse(worker.getBoolean("bert-serving.http.enabled"));
      managementPorts.add(worker.getInt("bert-serving.management.port"));
    }
    // a second frontend beside them (local4.conf), sharing the workers: its own ports, the same
    // seeds
    Config four = load(dir().resolve("local4.conf"));
    assertEquals(List.of("frontend"), four.getStringList("akka.cluster.roles"));
    assertEquals(25523, four.getInt("akka.remote.artery.canonical.port"));
    assertEquals(8126, four.getInt("bert-serving.http.port"));
    assertEquals("127.0.0.1", four.getString("bert-serving.http.interface"));
    assertEquals(all, four.getStringList("akka.cluster.seed-nodes"));
    managementPorts.add(four.getInt("bert-serving.management.port"));
    assertEquals(4, managementPorts.stream().distinct().count(), "one management port per node");
    // the local cluster script gives every node every node as a seed, too
    String script = Files.readString(dir().resolveSibling("ops").resolve("bert-serving-cluster"));
    assertTrue(
        script.contains("-seed_nodes \"$seeds\"") && script.contains("seeds=\"$seeds,127.0.0.1:"),
        "ops/bert-serving-cluster seeds every node with all");
    assertTrue(
        script.contains("-http_port $((8125 + j - 1))"),
        "ops/bert-serving-cluster starts more frontends on their own HTTP ports");
  }

  @Test
  void theSplitBrainStrategyCountsFrontendsOnly() {
    for (Config config :
        List.of(load(dir().resolve("application.conf")), NodeConfig.load(ConfigFactory.empty()))) {
      assertEquals(
          "keep-majority", config.getString("akka.cluster.split-brain-resolver.active-strategy"));
      assertEquals(
          "frontend", config.getString("akka.cluster.split-brain-resolver.keep-majority.role"));
      assertFalse(
          config.getBoolean("akka.coordinated-shutdown.exit-jvm"),
          "the node decides about the JVM");
    }
  }

  /** Every shipped multi-node file runs Artery over TLS; only the single node has no peers. */
  @Test
  void everyMultiNodeFileRunsArteryOverTls() {
    for (String file :
        List.of(
            "frontend.conf",
            "worker.conf",
            "local1.conf",
            "local2.conf",
            "local3.conf",
            "local4.conf",
            "kubernetes.conf")) {
      assertEquals(
          "tls-tcp", load(dir().resolve(file)).getString("akka.remote.artery.transport"), file);
    }
    assertEquals(
        "tcp", load(dir().resolve("application.conf")).getString("akka.remote.artery.transport"));
  }

  /**
   * A shipped file copied elsewhere (as to /etc/bert-serving/node.conf) stops the start, naming the
   * include it cannot find, instead of starting without it: without tls.conf, Artery would run
   * plain TCP on the cluster port, unauthenticated.
   */
  @Test
  void aCopyThatCannotFindWhatItIncludesStopsTheStartSayingSo(
      @org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
    Path copy = tmp.resolve("node.conf");
    Files.copy(dir().resolve("worker.conf"), copy);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> org.bertserving.cli.StartArgs.parse("-config", copy.toString()).config());
    assertTrue(
        e.getMessage().contains("application.conf")
            && e.getMessage().contains("include required(file("),
        e.getMessage());
    Files.writeString(
        copy,
        "include required(file(\""
            + dir().resolve("worker.conf").toAbsolutePath().normalize()
            + "\"))\nakka.cluster.seed-nodes = [\"akka://bert-serving@10.0.0.1:25520\", \"akka://bert-serving@10.0.0.2:25520\"]\n");
    Config config = org.bertserving.cli.StartArgs.parse("-config", copy.toString()).config();
    assertEquals("tls-tcp", config.getString("akka.remote.artery.transport"), "TLS kept");
  }
}

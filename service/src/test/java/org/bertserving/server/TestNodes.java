package org.bertserving.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.awaitility.Awaitility;
import org.bertserving.engine.TinyBert;

/**
 * The one test helper that starts nodes: configs for loopback nodes on ports the kernel chooses, on
 * the tiny BERT (written once per JVM) unless a test names another model, with serialize-messages
 * on.
 */
public final class TestNodes {
  private static Path tinyModel;
  private static Path mediumModel;

  private TestNodes() {}

  /** The tiny model folder, written on first use. */
  public static synchronized Path tinyModel() {
    if (tinyModel == null) {
      try {
        Path dir = Files.createTempDirectory("tiny-bert");
        tinyModel = TinyBert.writeGoogleFolder(dir.resolve("model"), TinyBert.CONFIG, 42, 0);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return tinyModel;
  }

  /**
   * A model slow enough for admission tests (hidden 128, 4 layers; written once per JVM): its
   * TensorFlow time outweighs the serving path's, as a real model's does, so that the measured
   * speed is what bounds a request's time. Serve it with a {@code max-seq-len} of 32.
   */
  public static synchronized Path mediumModel() {
    if (mediumModel == null) {
      try {
        mediumModel =
            TinyBert.writeGoogleFolder(
                Files.createTempDirectory("medium-bert").resolve("m"),
                new org.bertserving.engine.BertConfig(
                    TinyBert.VOCAB.size(), 128, 4, 4, 512, "gelu", 64, 2),
                3,
                0);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return mediumModel;
  }

  /**
   * A node of both roles with HTTP on loopback, these overrides applied, started and serving: its
   * worker warmed and registered with its frontend. The caller closes it.
   */
  public static BertServer serving(Map<String, Object> overrides) throws Exception {
    BertServer server = start(node(List.of("frontend", "worker"), 0, true, overrides));
    try {
      awaitWorkers(server, 1);
    } catch (RuntimeException | Error e) {
      server.close();
      throw e;
    }
    return server;
  }

  /** The settings a node of both roles would read from {@link #node} with these overrides. */
  public static org.bertserving.cluster.ServingSettings settings(Map<String, Object> overrides) {
    return org.bertserving.cluster.ServingSettings.create(
        node(List.of("frontend", "worker"), 0, false, overrides));
  }

  /**
   * The engine the test nodes run (the tiny model at their max-seq-len of 16), in this JVM: the
   * vectors their answers must carry. The caller closes it.
   */
  public static org.bertserving.engine.BertEncoder tinyEngine() throws IOException {
    return org.bertserving.engine.BertEncoder.load(
        org.bertserving.engine.EngineSettings.builder()
            .modelDir(tinyModel())
            .maxSeqLen(16)
            .build());
  }

  /** Waits until the frontend of {@code server} sees at least {@code count} warmed workers. */
  public static void awaitWorkers(BertServer server, int count) {
    await(() -> server.metrics().workers.get() >= count, 60, count + " worker(s) registered");
  }

  /** Waits (polling, never a fixed sleep) until {@code condition} holds; fails naming it. */
  public static void await(Callable<Boolean> condition, int seconds, String what) {
    Awaitility.await(what)
        .atMost(Duration.ofSeconds(seconds))
        .pollInterval(Duration.ofMillis(20))
        .ignoreExceptions()
        .until(condition);
  }

  /** What a child process printed (stdout and stderr) and its exit code. */
  public record Child(int exit, String output) {}

  /**
   * Runs a child process with its output in a file (never a pipe it could fill and block on), waits
   * for it at most {@code seconds}, and always reaps it: a hung child fails the test, never hangs
   * the build.
   */
  public static Child run(ProcessBuilder command, int seconds) throws Exception {
    Path out = Files.createTempFile("child", ".log");
    Process p = command.redirectErrorStream(true).redirectOutput(out.toFile()).start();
    try {
      if (!p.waitFor(seconds, java.util.concurrent.TimeUnit.SECONDS)) {
        throw new AssertionError(
            command.command() + " did not end within " + seconds + " s: " + Files.readString(out));
      }
      return new Child(p.exitValue(), Files.readString(out));
    } finally {
      p.descendants().forEach(ProcessHandle::destroyForcibly); // what a script started, too
      p.destroyForcibly();
      Files.deleteIfExists(out);
    }
  }

  /** The message of the refusal to start a node so configured (nothing is started). */
  public static String refusal(List<String> roles, int seedPort, Map<String, Object> more) {
    return org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> BertServer.start(node(roles, seedPort, false, more)).close())
        .getMessage();
  }

  /** Starts a node and waits until its ports are open; a node that cannot start fails the test. */
  public static BertServer start(Config config) throws Exception {
    BertServer server = BertServer.start(config);
    try {
      server.started().get(60, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      server.close();
      throw e;
    }
    return server;
  }

  /**
   * A node's config on 127.0.0.1, every port chosen by the kernel at bind time (read them back from
   * {@link BertServer#ports()}), so that no two nodes or suites can ever want the same one.
   *
   * @param roles "frontend", "worker" or both
   * @param seedPort the cluster port of the node to join ({@link BertServer#clusterPort()}), or 0
   *     to form a new cluster (a one-role node then joins itself: {@code join-self})
   * @param http whether the node opens its HTTP port
   * @param overrides more keys, e.g. {@code bert-serving.frontend.max-pending-rows}
   */
  public static Config node(
      List<String> roles, int seedPort, boolean http, Map<String, Object> overrides) {
    List<String> seeds = new ArrayList<>();
    if (seedPort > 0) {
      seeds.add("akka://bert-serving@127.0.0.1:" + seedPort);
    }
    Config base =
        ConfigFactory.parseMap(
                Map.of(
                    "akka.cluster.roles",
                    roles,
                    "akka.cluster.seed-nodes",
                    seeds,
                    "akka.remote.artery.canonical.hostname",
                    "127.0.0.1",
                    "akka.remote.artery.canonical.port",
                    0,
                    "bert-serving.http.interface",
                    "127.0.0.1",
                    "bert-serving.http.port",
                    0,
                    "bert-serving.http.enabled",
                    http,
                    "bert-serving.management.interface",
                    "127.0.0.1",
                    "bert-serving.cluster.join-self",
                    seedPort == 0
                        && roles.size() == 1
                        && !Boolean.TRUE.equals(overrides.get("bert-serving.cluster.bootstrap")),
                    "bert-serving.engine.model-dir",
                    tinyModel().toString()))
            .withFallback(
                ConfigFactory.parseString(
                    String.join(
                        "\n",
                        "akka.actor.serialize-messages = on",
                        "akka.coordinated-shutdown.exit-jvm = off",
                        "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
                        "akka.cluster.jmx.enabled = off",
                        "akka.cluster.split-brain-resolver.stable-after = 3s",
                        "akka.loglevel = WARNING",
                        "bert-serving.management.port = 0",
                        // one TensorFlow session a model: these nodes are the cluster's and the
                        // routes' proofs; sessions by run size are the engine tests' (each start
                        // here would probe four sessions for a second or more)
                        "bert-serving.engine.sized-sessions = off",
                        "bert-serving.engine.max-seq-len = 16")));
    return NodeConfig.load(ConfigFactory.parseMap(overrides).withFallback(base));
  }
}

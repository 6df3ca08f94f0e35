package org.bertserving.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.bertserving.engine.TinyBert;

/**
 * The one test helper that starts nodes: configs for loopback nodes on free ports, on the tiny BERT
 * (written once per JVM) unless a test names another model, with serialize-messages on.
 */
public final class TestNodes {
  private static Path tinyModel;

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

  private static final int FIRST_PORT = 20000;
  private static final int PORT_SPAN = 6384;
  // test JVMs of different modules start apart, so that two suites on one machine rarely meet
  private static final AtomicInteger NEXT_PORT =
      new AtomicInteger((int) (ProcessHandle.current().pid() * 389 % PORT_SPAN));

  /**
   * A port no one listens on, from 20000-26383 (the tools take 26384-32767): below Linux's
   * ephemeral range (32768-60999), so the kernel never hands it to an outgoing connection or to
   * another bind-to-0 between this check and the node binding it, and never twice from one JVM.
   */
  public static int freePort() {
    for (int i = 0; i < PORT_SPAN; i++) {
      int port = FIRST_PORT + Math.floorMod(NEXT_PORT.getAndIncrement(), PORT_SPAN);
      try (ServerSocket socket = new ServerSocket()) {
        socket.setReuseAddress(false);
        socket.bind(new InetSocketAddress("127.0.0.1", port));
        return port;
      } catch (IOException taken) {
        // in use: try the next
      }
    }
    throw new UncheckedIOException(
        new IOException("no free port in " + FIRST_PORT + "-" + (FIRST_PORT + PORT_SPAN - 1)));
  }

  /**
   * A node's config on 127.0.0.1.
   *
   * @param roles "frontend", "worker" or both
   * @param seedPort the artery port of the seed node, or 0 for a cluster of one
   * @param overrides more keys, e.g. {@code bert-serving.frontend.max-pending-rows}
   */
  public static Config node(
      List<String> roles,
      int clusterPort,
      int seedPort,
      int httpPort,
      Map<String, Object> overrides) {
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
                    clusterPort,
                    "bert-serving.http.interface",
                    "127.0.0.1",
                    "bert-serving.http.port",
                    httpPort,
                    "bert-serving.http.enabled",
                    httpPort > 0,
                    "bert-serving.management.interface",
                    "127.0.0.1",
                    "bert-serving.management.port",
                    0,
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
                        "bert-serving.engine.max-seq-len = 16")));
    return NodeConfig.load(ConfigFactory.parseMap(overrides).withFallback(base));
  }
}

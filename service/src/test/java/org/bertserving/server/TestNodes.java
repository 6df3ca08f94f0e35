package org.bertserving.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.bertserving.engine.TinyBert;

/**
 * The one test helper that starts nodes: configs for loopback nodes on free ports, on the tiny
 * BERT (written once per JVM) unless a test names another model, with serialize-messages on.
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
    Awaitility.await(what).atMost(Duration.ofSeconds(seconds)).pollInterval(Duration.ofMillis(20))
        .ignoreExceptions().until(condition);
  }

  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A node's config on 127.0.0.1.
   *
   * @param roles "frontend", "worker" or both
   * @param seedPort the artery port of the seed node, or 0 for a cluster of one
   * @param overrides more keys, e.g. {@code bert-serving.frontend.max-pending-rows}
   */
  public static Config node(List<String> roles, int clusterPort, int seedPort, int httpPort,
      Map<String, Object> overrides) {
    List<String> seeds = new ArrayList<>();
    if (seedPort > 0) {
      seeds.add("akka://bert-serving@127.0.0.1:" + seedPort);
    }
    Config base = ConfigFactory.parseMap(Map.of(
            "akka.cluster.roles", roles,
            "akka.cluster.seed-nodes", seeds,
            "akka.remote.artery.canonical.hostname", "127.0.0.1",
            "akka.remote.artery.canonical.port", clusterPort,
            "bert-serving.http.interface", "127.0.0.1",
            "bert-serving.http.port", httpPort,
            "bert-serving.http.enabled", httpPort > 0,
            "bert-serving.management.interface", "127.0.0.1",
            "bert-serving.management.port", 0,
            "bert-serving.engine.model-dir", tinyModel().toString()))
        .withFallback(ConfigFactory.parseString(String.join("\n",
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

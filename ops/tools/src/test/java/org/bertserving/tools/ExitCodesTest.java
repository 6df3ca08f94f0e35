package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.TinyBert;
import org.bertserving.engine.TinyHuggingFace;
import org.bertserving.http.Wire;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/**
 * What a supervisor (systemd's Restart=on-failure, Kubernetes) sees of a node process: a start that
 * fails exits non-zero with one line naming the cause; a graceful SIGTERM exits 0.
 */
class ExitCodesTest {
  static final Path LOGS = Path.of("target", "exit-codes");

  /** A node's flags; a port given as 0 is one the kernel chooses. */
  static List<String> node(int clusterPort, int httpPort, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of("-model_dir", TestNodes.tinyModel().toString(), "-max_seq_len", "16"));
    args.addAll(loopback(clusterPort, httpPort));
    args.addAll(List.of(more));
    return args;
  }

  /** A node's flags for loopback only, on these ports (0: the kernel's choice; management: 0). */
  static List<String> loopback(int clusterPort, int httpPort) {
    return List.of(
        "-cluster_host",
        "127.0.0.1",
        "-cluster_port",
        String.valueOf(clusterPort),
        "-http_interface",
        "127.0.0.1",
        "-http_port",
        String.valueOf(httpPort),
        "-management_interface",
        "127.0.0.1",
        "-management_port",
        "0");
  }

  static NodeProcess start(String name, List<String> args) {
    return NodeProcess.start(name, NodeProcess.ownClasspath(), List.of("-Xmx384m"), args, LOGS);
  }

  @Test
  void aTakenPortExitsOneWithOneLineNamingIt() throws Exception {
    try (ServerSocket taken =
        new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      try (NodeProcess http = start("http-taken", node(0, port));
          NodeProcess zmq =
              start("zmq-taken", node(0, 0, "-port", String.valueOf(port), "-port_out", "0"));
          NodeProcess cluster = start("cluster-taken", node(port, 0))) {
        assertEquals(1, http.awaitExit(Duration.ofSeconds(60)), http.output());
        assertTrue(
            cause(http)
                .matches(
                    "bert-serving-start: cannot bind HTTP to 127\\.0\\.0\\.1:" + port + ": .*"),
            http.output());
        assertEquals(1, zmq.awaitExit(Duration.ofSeconds(60)), zmq.output());
        assertTrue(
            cause(zmq)
                .equals(
                    "bert-serving-start: cannot bind the ZeroMQ door to *:"
                        + port
                        + " (-port): address already in use"),
            zmq.output());
        assertEquals(1, cluster.awaitExit(Duration.ofSeconds(60)), cluster.output());
        assertTrue(
            cause(cluster)
                .startsWith(
                    "bert-serving-start: cannot open the cluster port 127.0.0.1:"
                        + port
                        + " (-cluster_port): "),
            cluster.output());
      }
    }
  }

  @Test
  void aWorkerAskedForAGpuThatIsNotThereStopsNamingWhatIsMissing() throws Exception {
    try (NodeProcess node = start("no-gpu", node(0, 0, "-device_map", "0"))) {
      assertEquals(1, node.awaitExit(Duration.ofSeconds(60)), node.output());
      String cause = cause(node);
      assertTrue(
          cause.startsWith(
              "bert-serving-start: GPU 0 (-device_map) is not usable: "
                  + "TensorFlow sees only [CPU:0]"),
          cause);
      for (String named :
          List.of("CPU build", "-Pgpu", "NVIDIA driver", "CUDA 12", "cuDNN 9", "-cpu")) {
        assertTrue(cause.contains(named), named + " in: " + cause);
      }
      assertTrue(
          node.output().lines().noneMatch(l -> l.contains("BertEncoder - loaded")),
          "no model was loaded");
    }
  }

  @Test
  void aFolderThisEngineCannotRunExitsOneWithOneLineNamingTheFile() throws Exception {
    Path torch =
        TinyHuggingFace.write(
            java.nio.file.Files.createTempDirectory("torch").resolve("model"),
            new BertConfig(TinyBert.VOCAB.size(), 32, 2, 4, 64, "gelu_exact", 64, 2),
            11,
            TinyHuggingFace.Layout.sentenceTransformers());
    java.nio.file.Files.move(
        torch.resolve("model.safetensors"), torch.resolve("pytorch_model.bin"));
    List<String> args = node(0, 0);
    args.set(args.indexOf("-model_dir") + 1, torch.toString());
    try (NodeProcess node = start("pickle", args)) {
      assertEquals(1, node.awaitExit(Duration.ofSeconds(60)), node.output());
      String cause = cause(node);
      assertTrue(
          cause.contains(torch.resolve("pytorch_model.bin") + " is a PyTorch pickle"), cause);
      assertTrue(cause.contains("model.safetensors"), "names what to give instead: " + cause);
    }
  }

  @Test
  void aBadFlagExitsTwoAndAGracefulStopExitsZero() throws Exception {
    try (NodeProcess bad = start("bad-flag", List.of("-max_seq_len", "many"))) {
      assertEquals(2, bad.awaitExit(Duration.ofSeconds(60)), bad.output());
      assertEquals("bert-serving-start: -max_seq_len 'many' is not an integer", cause(bad));
    }
    // the class path as ops/ scripts give it (lib/*: alphabetical, Akka's jars before the
    // service's): the node's Akka settings must win over Akka's defaults all the same
    List<String> entries =
        new ArrayList<>(
            List.of(
                System.getProperty(
                        "surefire.test.class.path", System.getProperty("java.class.path"))
                    .split(java.io.File.pathSeparator)));
    entries.sort(java.util.Comparator.comparing(e -> Path.of(e).getFileName().toString()));
    try (NodeProcess node =
        NodeProcess.start(
            "graceful",
            String.join(java.io.File.pathSeparator, entries),
            List.of("-Xmx384m"),
            node(0, 0),
            LOGS)) {
      int http = node.ports(Duration.ofSeconds(60)).http();
      Wire.awaitReady("http://127.0.0.1:" + http, Duration.ofSeconds(60));
      assertEquals(0, node.stop(Duration.ofSeconds(90)), node.output());
    }
  }

  /** A wrong engine key given as a JVM option ({@code JAVA_OPTS}) is named as a flag is. */
  @Test
  void aWrongEngineKeyInTheJvmOptionsExitsTwoNamingIt() throws Exception {
    try (NodeProcess bad =
        NodeProcess.start(
            "bad-products",
            NodeProcess.ownClasspath(),
            List.of("-Xmx384m", "-Dbert-serving.engine.products=fast"),
            node(0, 0),
            LOGS)) {
      assertEquals(2, bad.awaitExit(Duration.ofSeconds(60)), bad.output());
      assertEquals(
          "bert-serving-start: bert-serving.engine.products: 'fast' is not one of measured,"
              + " fused, plain",
          cause(bad));
    }
  }

  /** The one line the node printed about why it stopped (Akka may log its shutdown after it). */
  static String cause(NodeProcess node) {
    List<String> lines =
        node.output().lines().filter(l -> l.startsWith("bert-serving-start: ")).toList();
    assertEquals(1, lines.size(), "one line naming the cause: " + node.output());
    return lines.get(0);
  }
}

package org.bertserving.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of node JVMs on loopback as shipped (cluster-conf/frontend.conf and worker.conf: Artery
 * over TLS with stores that ops/bert-serving-tls-stores made): {@code frontends} frontend-only JVMs
 * with HTTP, and worker-only JVMs with {@code gpus} simulated GPUs in all ({@link
 * SyntheticBackend}, {@code -num_worker} of them a JVM, at most {@code gpusPerJvm}). {@link #close}
 * reaps every JVM.
 */
final class SimulatedCluster implements AutoCloseable {
  private static final Duration START = Duration.ofMinutes(3);
  private static final Duration LEAVE = Duration.ofSeconds(15);

  /** What every cluster of a run shares. */
  record Setup(
      Path root,
      Path model,
      Path tls,
      Path logs,
      int maxSeqLen,
      int gpusPerJvm,
      List<String> frontendCores,
      String otherCores,
      List<String> workerJvm) {
    /** The setup a benchmark's options give, for the model folder {@code model}. */
    static Setup of(BenchOptions o, Path model) {
      return new Setup(
          o.root(),
          model,
          o.logs().resolve("tls"),
          o.logs().resolve("nodes"),
          o.maxSeqLen(),
          o.gpusPerJvm(),
          o.pinFrontend(),
          o.otherCores(),
          o.workerJvm());
    }
  }

  /** Clusters started and not yet closed: what a shutdown hook reaps (Ctrl-C mid-start too). */
  private static final java.util.Set<SimulatedCluster> LIVE =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final List<NodeProcess> frontends = new ArrayList<>();
  private final List<NodeProcess> workers = new ArrayList<>();

  /** The model folder and simulated GPUs of each worker JVM up. */
  private final Map<NodeProcess, Path> modelOf = new java.util.HashMap<>();

  private final Map<NodeProcess, Integer> gpusOf = new java.util.HashMap<>();
  private final List<Integer> httpPorts = new ArrayList<>();
  private final FrontendProbe probe = new FrontendProbe();

  private final Setup setup;
  private List<String> seeds;

  private SimulatedCluster(Setup setup) {
    this.setup = setup;
    LIVE.add(this);
  }

  /** Closes every cluster still up. */
  static void closeAll() {
    for (SimulatedCluster c : List.copyOf(LIVE)) {
      c.close();
    }
  }

  /** Makes the TLS stores (once: the script keeps what exists) for a frontend and a worker. */
  static void tlsStores(Path root, Path dir, Path log) throws IOException, InterruptedException {
    Files.createDirectories(log.getParent());
    Process p =
        new ProcessBuilder(
                root.resolve("ops/bert-serving-tls-stores").toString(),
                dir.toString(),
                "frontend",
                "worker")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    try {
      if (!p.waitFor(3, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new IOException("ops/bert-serving-tls-stores failed: " + Files.readString(log));
      }
    } finally {
      p.destroyForcibly();
    }
  }

  /**
   * Starts {@code frontendCount} frontend JVMs, the first forming the cluster; no workers yet.
   * Frontends outlive the workers' sets ({@link #workers}), so that each set meets frontends
   * already compiled by the JIT.
   */
  static SimulatedCluster frontends(Setup s, int frontendCount) {
    SimulatedCluster c = new SimulatedCluster(s);
    try {
      // the first frontend forms the cluster on a port picked now; the other JVMs keep trying to
      // join it until it is up (Akka's seed-node join retries), so all start at once
      int seedPort = freePort();
      c.seeds = List.of("127.0.0.1:" + seedPort);
      c.launch("frontend1", true, 0, List.of(), -1, seedPort);
      for (int f = 2; f <= frontendCount; f++) {
        c.launch("frontend" + f, true, f - 1, c.seeds, -1, 0);
      }
      for (NodeProcess f : c.frontends) {
        c.httpPorts.add(f.ports(START).http());
      }
      return c;
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /**
   * Starts worker JVMs with {@code gpus} simulated GPUs in all; waits until every frontend sees
   * them.
   */
  void workers(int gpus) {
    workers(gpus, setup.model(), "worker");
  }

  /**
   * Starts worker JVMs named {@code name}1, 2, ... serving the model folder {@code model} (the
   * model's name is the folder's), with {@code gpus} simulated GPUs in all, beside the workers
   * already up; waits until every frontend sees them all.
   */
  void workers(int gpus, Path model, String name) {
    List<NodeProcess> started = new ArrayList<>();
    for (int left = gpus, w = 1; left > 0; left -= setup.gpusPerJvm(), w++) {
      int these = Math.min(left, setup.gpusPerJvm());
      NodeProcess node = launch(name + w, false, 0, seeds, these, 0, model);
      modelOf.put(node, model);
      gpusOf.put(node, these);
      started.add(node);
    }
    for (NodeProcess w : started) {
      w.ports(START);
    }
    awaitWorkers(gpusUp());
  }

  private int gpusUp() {
    return workers.stream().mapToInt(gpusOf::get).sum();
  }

  /**
   * Stops the worker JVMs as an operator would (SIGTERM: they leave the cluster), killed if still
   * there after {@link #LEAVE} (a node that has left may take a while more to end its process);
   * waits until the frontends have seen them go.
   */
  void stopWorkers() {
    stopWorkers(null);
  }

  /** The same for the workers of the model folder {@code model} only ({@code null}: all). */
  void stopWorkers(Path model) {
    List<NodeProcess> leaving =
        workers.stream().filter(w -> model == null || model.equals(modelOf.get(w))).toList();
    for (NodeProcess w : leaving) {
      w.stop(LEAVE);
    }
    workers.removeAll(leaving);
    leaving.forEach(modelOf::remove);
    leaving.forEach(gpusOf::remove);
    awaitWorkers(gpusUp());
  }

  private void awaitWorkers(int gpus) {
    for (int port : httpPorts) {
      Waits.until(
          "frontend :" + port + " sees " + gpus + " workers (logs in " + setup.logs() + ")",
          START,
          () -> probe.workersSeen(port) == gpus);
    }
  }

  /** A port the kernel has just found free (for the seed node, whose port the others need). */
  private static int freePort() {
    try (java.net.ServerSocket socket =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private NodeProcess launch(
      String name, boolean frontend, int index, List<String> seeds, int gpus, int clusterPort) {
    return launch(name, frontend, index, seeds, gpus, clusterPort, setup.model());
  }

  private NodeProcess launch(
      String name,
      boolean frontend,
      int index,
      List<String> seeds,
      int gpus,
      int clusterPort,
      Path model) {
    Setup s = setup;
    List<String> args =
        new ArrayList<>(
            List.of(
                "-config",
                s.root()
                    .resolve(frontend ? "cluster-conf/frontend.conf" : "cluster-conf/worker.conf")
                    .toString(),
                "-cluster_host",
                "127.0.0.1",
                "-cluster_port",
                String.valueOf(clusterPort),
                "-management_interface",
                "127.0.0.1",
                "-management_port",
                "0",
                "-model_dir",
                model.toString(),
                "-max_seq_len",
                String.valueOf(s.maxSeqLen())));
    List<String> jvm = new ArrayList<>(List.of("-Xmx1g"));
    List<String> prefix = List.of();
    if (!seeds.isEmpty()) {
      args.addAll(List.of("-seed_nodes", String.join(",", seeds)));
    } else {
      jvm.add("-Dbert-serving.cluster.join-self=on");
    }
    if (frontend) {
      args.addAll(List.of("-http_interface", "127.0.0.1", "-http_port", "0"));
      if (s.frontendCores() != null) {
        prefix = List.of("taskset", "-c", s.frontendCores().get(index % s.frontendCores().size()));
      }
    } else {
      if (s.otherCores() != null) {
        prefix = List.of("taskset", "-c", s.otherCores());
      }
      args.addAll(List.of("-num_worker", String.valueOf(gpus), "-cpu"));
      jvm.add("-Dbert-serving.engine.backend=" + SyntheticBackend.class.getName());
      jvm.addAll(s.workerJvm());
    }
    String store = frontend ? "frontend" : "worker";
    Map<String, String> env;
    try {
      env =
          Map.of(
              "BERT_TLS_KEYSTORE", s.tls().resolve(store + ".p12").toString(),
              "BERT_TLS_TRUSTSTORE", s.tls().resolve("trust.p12").toString(),
              "BERT_TLS_PASSWORD", Files.readString(s.tls().resolve("password")).trim());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    NodeProcess node =
        NodeProcess.start(name, NodeProcess.ownClasspath(), jvm, args, s.logs(), env, prefix);
    (frontend ? frontends : workers).add(node);
    return node;
  }

  List<Integer> httpPorts() {
    return httpPorts;
  }

  int workerJvms() {
    return workers.size();
  }

  /** CPU time (user + system) of the frontend JVMs so far, in ns. */
  long frontendCpuNanos() {
    return frontends.stream().mapToLong(n -> ProcCpu.nanos(n.pid())).sum();
  }

  /** CPU time of the frontend JVMs' JIT compiler threads so far, in ns ({@link ProcCpu}). */
  long frontendCompilerNanos() {
    return frontends.stream().mapToLong(n -> ProcCpu.compilerNanos(n.pid())).sum();
  }

  /** CPU time of the worker JVMs so far, in ns. */
  long workerCpuNanos() {
    return workerCpuNanos(null);
  }

  /**
   * CPU time of the worker JVMs of model folder {@code model} so far ({@code null}: all), in ns.
   */
  long workerCpuNanos(Path model) {
    return workers.stream()
        .filter(w -> model == null || model.equals(modelOf.get(w)))
        .mapToLong(n -> ProcCpu.nanos(n.pid()))
        .sum();
  }

  /**
   * The workers' busy seconds and TensorFlow runs so far, summed over the frontends' {@code
   * /metrics} (each frontend counts the jobs it gave out).
   */
  double[] workerBusy() {
    return probe.workerBusy(httpPorts);
  }

  /** Kills and reaps every node. */
  @Override
  public void close() {
    LIVE.remove(this);
    for (NodeProcess n : frontends) {
      n.close();
    }
    for (NodeProcess n : workers) {
      n.close();
    }
  }
}

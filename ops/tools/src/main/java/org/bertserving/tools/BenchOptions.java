package org.bertserving.tools;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The options of {@code ops/bert-serving-benchmark-cluster}. */
record BenchOptions(
    Path root,
    Path logs,
    List<Integer> gpus,
    List<Integer> frontends,
    List<BenchRoute> routes,
    int inflight,
    boolean half,
    double seconds,
    double warmSeconds,
    double frontendWarmSeconds,
    double workerWarmSeconds,
    double maxWarmSeconds,
    List<String> pinFrontend,
    String otherCores,
    int gpusPerJvm,
    int dim,
    int maxSeqLen,
    boolean sdk,
    SyntheticBackend.Timing timing) {

  static final String USAGE =
      """
      usage: ops/bert-serving-benchmark-cluster [--quick] [--gpus 1,2,4,8,16,32] [--frontends 1,2]
          [--routes json,npy,base64] [--inflight 32] [--load half|saturate] [--seconds 3]
          [--max-warm 120] [--pin-frontend CORES] [--gpus-per-jvm 16] [--dim 768]
          [--max-seq-len 40] [--no-sdk]
          [--run-overhead-us 1000] [--token-ns 2400] [--logs ops/run/cluster-bench]
        --quick          16 GPUs only, 2 s phases: about 2 minutes
        --max-warm S     before a route's first cell, load until two 3-s slices in a row answer
                         within 5 % of each other (the JIT done), at most S seconds
        --inflight N     requests of 32 texts in flight in the saturated phase (and connections)
        --load half      (default) the saturated phase, then one paced at half its rate, where the
                         latency is measured; saturate: latency at saturation, no second phase
        --pin-frontend C frontend JVM i runs under taskset -c on the i-th of the comma-separated
                         cores (0: every frontend on core 0; 0,1: one each); the worker JVMs and
                         this JVM then run on the other cores, if any
        --gpus-per-jvm K simulated GPUs a worker JVM (-num_worker); more GPUs, more worker JVMs
      """;

  static BenchOptions parse(String... args) {
    boolean quick = Arrays.asList(args).contains("--quick");
    Path root = root(Path.of("").toAbsolutePath());
    Path logs = root.resolve("ops/run/cluster-bench");
    List<Integer> gpus = quick ? List.of(16) : List.of(1, 2, 4, 8, 16, 32);
    List<Integer> frontends = List.of(1, 2);
    List<BenchRoute> routes = List.of(BenchRoute.values());
    int inflight = 32;
    boolean half = true;
    double seconds = quick ? 2 : 3;
    double maxWarm = quick ? 30 : 120;
    List<String> pin = null;
    int perJvm = 16;
    int dim = 768;
    int maxSeqLen = 40;
    boolean sdk = true;
    long overhead = SyntheticBackend.Timing.DEFAULT.runOverheadNanos() / 1000;
    long token = SyntheticBackend.Timing.DEFAULT.tokenNanos();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--quick")) {
        continue;
      }
      if (a.equals("--no-sdk")) {
        sdk = false;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(a + ": unknown option or missing value");
      }
      String v = args[++i];
      try {
        switch (a) {
          case "--gpus" -> gpus = positive(a, ClusterBenchmark.ints(v));
          case "--frontends" -> frontends = positive(a, ClusterBenchmark.ints(v));
          case "--routes" -> routes = routes(v);
          case "--inflight" -> inflight = positive(a, List.of(Integer.parseInt(v))).get(0);
          case "--load" -> half = load(v);
          case "--seconds" -> seconds = Double.parseDouble(v);
          case "--max-warm" -> maxWarm = Double.parseDouble(v);
          case "--pin-frontend" -> pin = List.of(v.split(","));
          case "--gpus-per-jvm" -> perJvm = positive(a, List.of(Integer.parseInt(v))).get(0);
          case "--dim" -> dim = positive(a, List.of(Integer.parseInt(v))).get(0);
          case "--max-seq-len" -> maxSeqLen = Integer.parseInt(v);
          case "--run-overhead-us" -> overhead = Long.parseLong(v);
          case "--token-ns" -> token = Long.parseLong(v);
          case "--logs" -> logs = Path.of(v).toAbsolutePath();
          default -> throw new IllegalArgumentException(a + ": unknown option");
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(a + " " + v + ": not a number");
      }
    }
    if (inflight > 256) {
      throw new IllegalArgumentException("--inflight " + inflight + ": at most 256");
    }
    if (seconds <= 0 || overhead < 0 || token < 0 || maxSeqLen < 8) {
      throw new IllegalArgumentException(
          "--seconds > 0, --run-overhead-us and --token-ns >= 0, --max-seq-len >= 8");
    }
    return new BenchOptions(
        root,
        logs,
        gpus,
        frontends,
        routes,
        inflight,
        half,
        seconds,
        1,
        quick ? 10 : 20,
        quick ? 5 : 10,
        maxWarm,
        pin,
        otherCores(pin),
        perJvm,
        dim,
        maxSeqLen,
        sdk,
        new SyntheticBackend.Timing(overhead * 1000, token));
  }

  /**
   * The checkout: this folder or the nearest above it with cluster-conf/ (a test runs in
   * ops/tools).
   */
  private static Path root(Path dir) {
    for (Path d = dir; d != null; d = d.getParent()) {
      if (java.nio.file.Files.isRegularFile(d.resolve("cluster-conf/frontend.conf"))) {
        return d;
      }
    }
    throw new IllegalArgumentException(
        dir + " is not inside a checkout (no cluster-conf/ above it)");
  }

  private static List<Integer> positive(String option, List<Integer> values) {
    if (values.isEmpty() || values.stream().anyMatch(v -> v < 1)) {
      throw new IllegalArgumentException(option + " " + values + ": expected numbers >= 1");
    }
    return values;
  }

  private static List<BenchRoute> routes(String v) {
    List<BenchRoute> routes = new ArrayList<>();
    for (String name : v.split(",")) {
      routes.add(
          switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "json" -> BenchRoute.ENCODE_JSON;
            case "npy" -> BenchRoute.ENCODE_NPY;
            case "base64" -> BenchRoute.OPENAI_BASE64;
            default ->
                throw new IllegalArgumentException(
                    "--routes " + name + ": expected json, npy or base64");
          });
    }
    return routes;
  }

  private static boolean load(String v) {
    return switch (v) {
      case "half" -> true;
      case "saturate" -> false;
      default -> throw new IllegalArgumentException("--load " + v + ": expected half or saturate");
    };
  }

  /**
   * The cores left to the workers and the load generator when the frontends are pinned (so that a
   * pinned frontend has its core to itself), e.g. {@code "1"}; null when none are pinned or no core
   * is left. Taken before this JVM pins itself, after which it sees fewer cores.
   */
  private static String otherCores(List<String> pinned) {
    if (pinned == null) {
      return null;
    }
    List<String> others = new ArrayList<>();
    for (int c = 0; c < Runtime.getRuntime().availableProcessors(); c++) {
      if (!pinned.contains(String.valueOf(c))) {
        others.add(String.valueOf(c));
      }
    }
    return others.isEmpty() ? null : String.join(",", others);
  }

  /** The worker JVMs' options for the simulated card's timing. */
  List<String> workerJvm() {
    return List.of(
        "-D" + SyntheticBackend.RUN_OVERHEAD + "=" + timing.runOverheadNanos() / 1000,
        "-D" + SyntheticBackend.TOKEN_NANOS + "=" + timing.tokenNanos());
  }

  String describeLoad() {
    return String.format(
        Locale.ROOT,
        "%d requests in flight over %d keep-alive connections (spread over the frontends' HTTP"
            + " ports)%s",
        inflight,
        inflight,
        half ? ", then paced at half the rows/s that reached (open loop, same connections)" : "");
  }
}

package org.bertserving.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.bertserving.client.BertClient;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.DefaultModel;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.GpuPlatform;
import org.bertserving.engine.InputFeatures;
import org.bertserving.server.NodePorts;

/**
 * The speed targets, each a ratio measured in this one run on this machine (BERT-Base): the server
 * (a node JVM, HTTP, the Java SDK) against Google's own float32 graph on the same texts, in float32
 * and with {@code -bf16}, on texts of 40 tokens and on one request of mixed lengths; one query at a
 * time through HTTP against the engine alone; two worker JVMs pinned to a core each against one;
 * all-MiniLM-L6-v2 against LangChain4j's ONNX Runtime embedder. A target that cannot be measured
 * here (no bfloat16 units) is reported as missed. Part of {@code ops/bert-serving-benchmark
 * --targets}.
 */
public final class SpeedTargets {
  private static final Path LOGS = Path.of("ops", "run", "targets");
  // about what one client's round trip through HTTP leaves the worker idle between its queries
  private static final int IDLE_MILLIS = 5;

  private final double seconds;
  private final List<String> rows = new ArrayList<>();

  private SpeedTargets(double seconds) {
    this.seconds = seconds;
  }

  public static void main(String[] args) throws Exception {
    double seconds =
        args.length > 1 && args[0].equals("--seconds") ? Double.parseDouble(args[1]) : 8;
    new SpeedTargets(seconds).run();
    System.exit(0);
  }

  private void run() throws Exception {
    Random random = new Random(5);
    List<String> fixed = texts(256, 38, 38, random);
    List<String> mixed = texts(256, 3, 38, random);
    List<String> query = List.of("how do I cook rice tonight");
    double googleFixed;
    double googleMixed;
    // the engine alone stays loaded (and idle) while the servers are measured: one query's latency
    // through HTTP is taken in turns with the engine's, so that both see the same minutes
    try (BertEncoder engine = BertEncoder.load(EngineSettings.builder().maxSeqLen(40).build())) {
      try (GoogleGraph google = new GoogleGraph(DefaultModel.unpacked(), 0)) {
        List<InputFeatures> f = engine.featurizer().featurize(fixed, false).rows();
        List<InputFeatures> m = engine.featurizer().featurize(mixed, false).rows();
        googleFixed = rate(() -> google.sequenceOutput(f, 40).length > 0, f.size());
        googleMixed = rate(() -> google.sequenceOutput(m, 40).length > 0, m.size());
      }
      engine.calibrate(16, 40);
      warmUp(() -> engine.encode(query).length > 0);
      servers(engine, fixed, mixed, query, googleFixed, googleMixed);
    }
    pinnedWorkers(fixed);
    miniLm();
    System.out.println("| measure | value | ratio | target |\n|---|---:|---:|---:|");
    rows.forEach(System.out::println);
  }

  /** The server in float32 and with -bf16 against Google's graph; one query against the engine. */
  private void servers(
      BertEncoder engine,
      List<String> fixed,
      List<String> mixed,
      List<String> query,
      double googleFixed,
      double googleMixed)
      throws Exception {
    System.out.printf(
        Locale.ROOT,
        "# Speed targets%n%n%s, Java %s; BERT-Base, %.0f s a measure;"
            + " Google's float32 graph: %.1f rows/s at 256 x 40, %.1f on 256 texts of 3-38 word pieces"
            + " padded to 40%n%n",
        GpuPlatform.cpu(),
        System.getProperty("java.version"),
        seconds,
        googleFixed,
        googleMixed);

    List<String> modes = GpuPlatform.cpuBf16() ? List.of("float32", "-bf16") : List.of("float32");
    for (String mode : modes) {
      List<String> flags = mode.equals("-bf16") ? List.of("-bf16") : List.of();
      try (Server server = new Server("server" + mode, flags, 1, null)) {
        double fixedRate = server.rate(fixed, 1);
        double mixedRate = server.rate(mixed, 1);
        row(
            "server " + mode + ", 256 x 40, rows/s",
            fixedRate,
            fixedRate / googleFixed,
            mode.equals("-bf16") ? ">= 1.5" : "",
            "of Google's graph");
        row(
            "server " + mode + ", one request of 256 texts of 3-38 word pieces",
            mixedRate,
            mixedRate / googleMixed,
            mode.equals("-bf16") ? ">= 2.2" : ">= 1.5",
            "of Google's graph padded to 40");
        if (mode.equals("float32")) {
          Latency l = server.latency(query, engine);
          // where the time goes: the worker's own time per job (its /metrics) and the rest
          row(
              "one 8-token query at a time through HTTP, p50 ms (p99 "
                  + String.format(Locale.ROOT, "%.1f", l.http99())
                  + ")",
              l.http50(),
              l.http50() / l.engine50(),
              "<= 1.2",
              String.format(
                  Locale.ROOT,
                  "of the engine alone, in turns with it (%.1f ms back to back, %.1f ms with %d ms"
                      + " idle between queries); in the worker %.1f ms a query, HTTP + client +"
                      + " actors the rest",
                  l.engine50(),
                  l.engineIdle50(),
                  IDLE_MILLIS,
                  l.worker()));
          if (l.hey() != null) {
            row(
                "the same query through hey (a Go client), p50 ms (p99 "
                    + String.format(Locale.ROOT, "%.1f", quantile(l.hey(), 0.99))
                    + ")",
                quantile(l.hey(), 0.5),
                quantile(l.hey(), 0.5) / l.engine50(),
                "",
                "of the engine alone: the server without the Java client's share");
          }
        }
      }
    }
    if (!GpuPlatform.cpuBf16()) {
      rows.add(
          "| server -bf16 (256 x 40, and 256 texts of 3-38 word pieces) | - | not measured: this"
              + " CPU has neither AVX512_BF16 nor AMX | >= 1.5, >= 2.2 (missed) |");
    }
  }

  /** Two worker JVMs, each pinned to one core, against one (a frontend JVM beside them). */
  private void pinnedWorkers(List<String> fixed) throws Exception {
    double one;
    double two;
    // requests of 32 texts from 4 clients: enough to keep two workers busy, not so much that a
    // single pinned worker (about 20 rows/s) would refuse them with 429
    List<String> batch = fixed.subList(0, 32);
    double besideWorkers;
    // both clusters up at once, the idle one idle while the other is measured, in turns: the
    // machine's speed drifts over minutes (one pinned worker gave 20.5 to 22.9 rows/s in four runs
    // within 10 minutes), and turns let both sides of the ratio see the same minutes
    try (Server oneWorker = new Server("pinned-1", List.of(), 1, List.of("0"));
        Server twoWorkers = new Server("pinned-2", List.of(), 2, List.of("0", "1"))) {
      oneWorker.warm(batch, 4);
      twoWorkers.warm(batch, 4);
      Turns ones = new Turns();
      Turns twos = new Turns();
      for (int turn = 0; turn < 4; turn++) {
        ones.add(oneWorker.turn(batch, 4, seconds / 2));
        twos.add(twoWorkers.turn(batch, 4, seconds / 2));
      }
      one = ones.rate();
      two = twos.rate();
      besideWorkers = twos.cores();
    }
    // the frontend JVM and this client are not pinned: they take their CPU from the workers' cores
    row(
        "two worker JVMs pinned to a core each, rows/s",
        two,
        two / one,
        ">= 1.8",
        String.format(
            Locale.ROOT,
            "of one (%.1f; frontend + client used %.2f of the 2 cores)",
            one,
            besideWorkers));
  }

  /**
   * all-MiniLM-L6-v2 at batch 32 against what a Java user would pick instead, LangChain4j's
   * in-process ONNX Runtime embedder, on the same texts in this run ({@link MiniLmBenchmark} has
   * the whole table: batch 1, 32, 256 and one query's latency).
   */
  private void miniLm() throws Exception {
    try (BertEncoder engine = MiniLmBenchmark.engine(false);
        BertEncoder engineBf16 = GpuPlatform.cpuBf16() ? MiniLmBenchmark.engine(true) : null) {
      List<String> texts = MiniLmBenchmark.texts(engine, 2048);
      engine.calibrate(16, 64); // as a worker does at its start
      double theirs =
          MiniLmBenchmark.rowsPerSecond(MiniLmBenchmark.langchain4j(), texts, 32, seconds);
      double ours = MiniLmBenchmark.rowsPerSecond(engine::encode, texts, 32, seconds);
      row(
          "all-MiniLM-L6-v2 float32, batch 32 of 10-60 tokens, rows/s",
          ours,
          ours / theirs,
          ">= 1.0",
          String.format(Locale.ROOT, "of LangChain4j's ONNX Runtime embedder (%.1f)", theirs));
      if (engineBf16 != null) {
        engineBf16.calibrate(16, 64);
        double oursBf16 = MiniLmBenchmark.rowsPerSecond(engineBf16::encode, texts, 32, seconds);
        row(
            "all-MiniLM-L6-v2 -bf16, batch 32 of 10-60 tokens, rows/s",
            oursBf16,
            oursBf16 / theirs,
            ">= 1.3",
            "of LangChain4j's ONNX Runtime embedder");
      } else {
        rows.add(
            "| all-MiniLM-L6-v2 -bf16, batch 32 | - | not measured: this CPU has neither"
                + " AVX512_BF16 nor AMX | >= 1.3 (missed) |");
      }
    }
  }

  private void row(String measure, double value, double ratio, String target, String of) {
    rows.add(
        String.format(
            Locale.ROOT, "| %s | %.1f | %.2f %s | %s |", measure, value, ratio, of, target));
    System.err.println(rows.get(rows.size() - 1));
  }

  private double rate(Supplier<Boolean> batch, int size) {
    batch.get();
    long start = System.nanoTime();
    long rows = 0;
    do {
      batch.get();
      rows += size;
    } while (System.nanoTime() - start < seconds * 1e9);
    return rows / ((System.nanoTime() - start) / 1e9);
  }

  /** TensorFlow's first few hundred small runs are slower: calls as long as a measure lasts. */
  private void warmUp(Supplier<Boolean> call) {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    for (int i = 0; i < 10 || System.nanoTime() < end; i++) {
      call.get();
    }
  }

  /**
   * Milliseconds of calls for {@code seconds} (at least 10 calls), idle {@code pauseMillis} before
   * each call (not counted); the first two after a turn of the other side are left out.
   */
  private static List<Double> times(Supplier<Boolean> call, double seconds, int pauseMillis) {
    List<Double> ms = new ArrayList<>();
    long end = System.nanoTime() + (long) (seconds * 1e9);
    for (int i = 0; System.nanoTime() < end || i < 12; i++) {
      if (pauseMillis > 0) {
        LockSupport.parkNanos(pauseMillis * 1_000_000L);
      }
      long t = System.nanoTime();
      call.get();
      if (i >= 2) {
        ms.add((System.nanoTime() - t) / 1e6);
      }
    }
    return ms;
  }

  /** The {@code q} quantile (0.5: the median). */
  private static double quantile(List<Double> ms, double q) {
    List<Double> sorted = new ArrayList<>(ms);
    sorted.sort(null);
    return sorted.get(Math.max(0, (int) Math.ceil(sorted.size() * q) - 1));
  }

  /** Rows in {@code wallNanos}, and the CPU the frontend JVM and this JVM used meanwhile. */
  private record Turn(long rows, long wallNanos, long besideCpuNanos) {}

  /** The sum of a server's turns. */
  private static final class Turns {
    private long rows;
    private long wall;
    private long cpu;

    void add(Turn t) {
      rows += t.rows();
      wall += t.wallNanos();
      cpu += t.besideCpuNanos();
    }

    double rate() {
      return rows / (wall / 1e9);
    }

    /** The frontend's and this JVM's CPU, in cores. */
    double cores() {
      return cpu / (double) wall;
    }
  }

  /** One query at a time: through HTTP and in the engine alone, in ms. */
  private record Latency(
      double http50,
      double http99,
      double engine50,
      double engineIdle50,
      double worker,
      List<Double> hey) {}

  /** Texts of {@code min} to {@code max} word pieces of common one-piece words. */
  static List<String> texts(int n, int min, int max, Random random) {
    String[] words =
        ("the a of to and in is it that for on with as was by at from this be are or "
                + "an have not they which one you were all we can her has there been if more when will "
                + "would who so no out up into do than time only new some could these two may first then "
                + "any like my now over such our man me even most made after also did many before must "
                + "through back years where much your way well down should because each just those people "
                + "how too little state good very make world still own see men work long get here between "
                + "both life being under never day same another know while last might us great old year "
                + "off come since against go came right used take three")
            .split(" ");
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int length = min + random.nextInt(max - min + 1);
      StringBuilder s = new StringBuilder();
      for (int w = 0; w < length; w++) {
        s.append(w == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
      }
      texts.add(s.toString());
    }
    return texts;
  }

  /**
   * One node JVM with both roles; or, with {@code cores}, a frontend JVM and {@code workers} worker
   * JVMs, worker i pinned to core {@code cores[i]} with {@code taskset}; measured through the SDK.
   */
  private final class Server implements AutoCloseable {
    private final List<NodeProcess> nodes = new ArrayList<>();
    private int http;
    private final BertClient client;

    Server(String name, List<String> flags, int workers, List<String> cores) throws Exception {
      int seed = 0; // node 0 forms the cluster on ports the kernel chooses; the others join it
      for (int i = 0; i <= (cores == null ? 0 : workers); i++) {
        List<String> args =
            new ArrayList<>(
                List.of(
                    "-max_seq_len",
                    "40",
                    "-cluster_host",
                    "127.0.0.1",
                    "-cluster_port",
                    "0",
                    "-management_interface",
                    "127.0.0.1",
                    "-management_port",
                    "0"));
        args.addAll(flags);
        List<String> jvm = new ArrayList<>(List.of("-Xmx2g"));
        List<String> prefix = List.of();
        if (i == 0) {
          args.addAll(List.of("-http_interface", "127.0.0.1", "-http_port", "0"));
          if (cores != null) {
            args.addAll(List.of("-role", "frontend"));
            jvm.add("-Dbert-serving.cluster.join-self=on");
          }
        } else {
          args.addAll(
              List.of(
                  "-role",
                  "worker",
                  "-seed_nodes",
                  "127.0.0.1:" + seed,
                  "-intra_op_threads",
                  "1",
                  "-inter_op_threads",
                  "1"));
          prefix = List.of("taskset", "-c", cores.get(i - 1));
        }
        NodeProcess node =
            NodeProcess.start(
                name + "-" + i, NodeProcess.ownClasspath(), jvm, args, LOGS, Map.of(), prefix);
        nodes.add(node);
        if (i == 0) {
          NodePorts opened = node.ports(Duration.ofMinutes(3));
          http = opened.http();
          seed = opened.cluster();
        }
      }
      HttpClient probe = HttpClient.newHttpClient();
      Waits.until(
          name + " ready (logs in " + LOGS.toAbsolutePath() + ")",
          Duration.ofMinutes(3),
          () -> ready(probe, workers));
      client =
          BertClient.builder()
              .http(URI.create("http://127.0.0.1:" + http))
              .timeout(Duration.ofMinutes(2))
              .retries(5)
              .checkLength(false)
              .build();
    }

    private boolean ready(HttpClient probe, int workers) {
      try {
        HttpResponse<String> status =
            probe.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + "/status/server"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        return status.statusCode() == 200 && status.body().contains("\"num_workers\":" + workers);
      } catch (Exception e) {
        return false;
      }
    }

    /** Rows/s of {@code clients} clients sending {@code texts} in a loop, once warm. */
    double rate(List<String> texts, int clients) throws Exception {
      warm(texts, clients);
      Turns once = new Turns();
      once.add(turn(texts, clients, seconds));
      return once.rate();
    }

    /** As long as a measure: the JIT of fresh JVMs (frontend, SDK) stays out of the measures. */
    void warm(List<String> texts, int clients) throws Exception {
      load(texts, clients, System.nanoTime() + (long) (seconds * 1e9));
    }

    /** {@code clients} clients sending {@code texts} in a loop for {@code seconds}. */
    Turn turn(List<String> texts, int clients, double seconds) throws Exception {
      long cpuBefore = frontendAndClientCpuNanos();
      long start = System.nanoTime();
      long rows = load(texts, clients, start + (long) (seconds * 1e9));
      long wall = System.nanoTime() - start;
      return new Turn(rows, wall, frontendAndClientCpuNanos() - cpuBefore);
    }

    private long load(List<String> texts, int clients, long end) throws Exception {
      List<CompletableFuture<Long>> running = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        running.add(
            CompletableFuture.supplyAsync(
                () -> {
                  long rows = 0;
                  while (System.nanoTime() < end) {
                    rows += client.encode(texts).length;
                  }
                  return rows;
                }));
      }
      long rows = 0;
      for (CompletableFuture<Long> r : running) {
        rows += r.get();
      }
      return rows;
    }

    private long frontendAndClientCpuNanos() {
      long frontend =
          ProcessHandle.of(nodes.get(0).pid())
              .flatMap(h -> h.info().totalCpuDuration())
              .map(Duration::toNanos)
              .orElse(0L);
      return frontend
          + ((com.sun.management.OperatingSystemMXBean)
                  java.lang.management.ManagementFactory.getOperatingSystemMXBean())
              .getProcessCpuTime();
    }

    /**
     * One query at a time through HTTP and in the engine alone (in this JVM, while the server
     * idles), in turns of a quarter of a measure each; the worker's mean time a query meanwhile.
     */
    Latency latency(List<String> query, BertEncoder engine) throws Exception {
      warmUp(() -> client.encode(query).length > 0);
      List<Double> http = new ArrayList<>();
      List<Double> alone = new ArrayList<>();
      List<Double> idle = new ArrayList<>();
      List<Double> viaHey = new ArrayList<>();
      boolean heyHere = hey(query, 0.1) != null;
      double busy = 0;
      double tfRuns = 0;
      for (int turn = 0; turn < 4; turn++) {
        double[] before = workerBusy();
        http.addAll(times(() -> client.encode(query).length > 0, seconds / 4, 0));
        double[] after = workerBusy();
        busy += after[0] - before[0];
        tfRuns += after[1] - before[1];
        alone.addAll(times(() -> engine.encode(query).length > 0, seconds / 4, 0));
        // with the pause a client's round trip leaves between queries: TensorFlow's threads go
        // to sleep and its caches cool, which a back-to-back loop never sees
        idle.addAll(times(() -> engine.encode(query).length > 0, seconds / 8, IDLE_MILLIS));
        List<Double> turnOfHey = heyHere ? hey(query, seconds / 4) : null;
        if (turnOfHey == null) {
          heyHere = false;
        } else {
          viaHey.addAll(turnOfHey);
        }
      }
      return new Latency(
          quantile(http, 0.5),
          quantile(http, 0.99),
          quantile(alone, 0.5),
          quantile(idle, 0.5),
          busy * 1000 / Math.max(1, tfRuns),
          heyHere && !viaHey.isEmpty() ? viaHey : null);
    }

    /**
     * Milliseconds of one query at a time from {@code hey} (a Go HTTP load tool, in Debian), the
     * first two left out; {@code null} when it is not on the PATH or fails (its errors are in
     * {@code hey.log} beside the nodes' logs).
     */
    private List<Double> hey(List<String> query, double seconds) throws Exception {
      Path log = LOGS.resolve("hey.log");
      Process run;
      try {
        run =
            new ProcessBuilder(
                    "hey",
                    "-c",
                    "1",
                    "-z",
                    Math.max(1, Math.round(seconds * 10)) * 100 + "ms",
                    "-o",
                    "csv",
                    "-m",
                    "POST",
                    "-T",
                    "application/json",
                    "-d",
                    new ObjectMapper().writeValueAsString(Map.of("texts", query)),
                    "http://127.0.0.1:" + http + "/encode")
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
      } catch (IOException e) {
        return null; // not installed
      }
      try {
        List<String> lines =
            new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .lines()
                .toList();
        if (!run.waitFor((long) seconds + 30, TimeUnit.SECONDS) || run.exitValue() != 0) {
          System.err.println("hey failed (see " + log.toAbsolutePath() + "): left out");
          return null;
        }
        List<Double> ms = new ArrayList<>();
        for (String line : lines.subList(Math.min(lines.size(), 3), lines.size())) {
          String[] columns = line.split(","); // response-time (s), ..., status-code, offset
          if (columns.length < 7 || !columns[6].equals("200")) {
            System.err.println("hey got " + line + ": left out");
            return null;
          }
          ms.add(Double.parseDouble(columns[0]) * 1000);
        }
        return ms;
      } finally {
        run.destroy();
      }
    }

    /** Sums of bert_worker_busy_seconds_total and bert_worker_tf_runs_total. */
    private double[] workerBusy() throws Exception {
      String metrics =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      return busyAndTfRuns(metrics);
    }

    @Override
    public void close() {
      client.close();
      nodes.forEach(NodeProcess::close);
    }
  }

  /**
   * The workers' busy seconds and TensorFlow runs, summed over every worker in a frontend's {@code
   * /metrics} text.
   */
  static double[] busyAndTfRuns(String metrics) {
    double[] sums = new double[2];
    for (String line : metrics.split("\n")) {
      int at =
          line.startsWith("bert_worker_busy_seconds_total{")
              ? 0
              : line.startsWith("bert_worker_tf_runs_total{") ? 1 : -1;
      if (at >= 0) {
        sums[at] += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sums;
  }
}

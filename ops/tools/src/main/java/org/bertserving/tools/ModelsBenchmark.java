package org.bertserving.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a second model costs the first one in a cluster (ops/bert-serving-benchmark-models): the
 * cluster benchmark's frontend and worker JVMs on loopback, workers of model A only, then worker
 * JVMs of model B joined, (a) idle, (b) under their own paced load; model A measured the same way
 * in each (saturated, then paced at the same rate), every request naming its model and every row
 * checked against its own model's vector. One table, A alone | A + idle B | A + loaded B, with
 * ratios, and where the CPU went.
 */
public final class ModelsBenchmark {
  static final String A = "model-a";
  static final String B = "model-b";

  /** The options: the cluster benchmark's, plus which columns and how much load B gets. */
  record Options(BenchOptions bench, boolean idle, boolean loaded, double bLoad, int rounds) {
    static final String USAGE =
        """
        usage: ops/bert-serving-benchmark-models [--quick] [--second-model idle|loaded|both]
            [--b-load 0.25] [--rounds 3] [--gpus 16] [--frontends 1] [--routes npy]
            [--inflight 32] [--seconds 3] [--max-warm 120] [--pin-frontend CORES]
            [--gpus-per-jvm 16] [--dim 768] [--run-overhead-us 1000] [--token-ns 2400] [--logs DIR]
          --second-model   the columns beside A alone: B's workers idle, loaded, or both (default)
          --b-load F       B's paced load, as a fraction of its capacity (the rows/s of the last
                           slice of B's saturated warm-up)
          --rounds N       each column measured N times (idle and loaded interleaved, A alone N
                           times at the end), the table their medians (default 3, 1 with --quick)
          --gpus N         simulated GPUs of each model; --frontends N, --routes R: one value each
        """;

    static Options parse(String... args) {
      List<String> rest = new ArrayList<>();
      String second = "both";
      double bLoad = 0.25;
      int rounds = java.util.Arrays.asList(args).contains("--quick") ? 1 : 3;
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--second-model" -> second = value(args, ++i, "--second-model");
          case "--b-load" -> bLoad = number(value(args, ++i, "--b-load"), "--b-load");
          case "--rounds" -> rounds = (int) number(value(args, ++i, "--rounds"), "--rounds");
          default -> rest.add(args[i]);
        }
      }
      if (!List.of("idle", "loaded", "both").contains(second)) {
        throw new IllegalArgumentException(
            "--second-model " + second + ": expected idle, loaded or both");
      }
      if (!(bLoad > 0 && bLoad <= 1)) {
        throw new IllegalArgumentException("--b-load " + bLoad + ": expected a fraction in (0, 1]");
      }
      if (rounds < 1) {
        throw new IllegalArgumentException("--rounds " + rounds + ": expected at least 1");
      }
      defaults(rest, "--routes", "npy");
      defaults(rest, "--gpus", "16");
      defaults(rest, "--frontends", "1");
      if (!rest.contains("--logs")) {
        Path root = BenchOptions.parse(rest.toArray(new String[0])).root();
        defaults(rest, "--logs", root.resolve("ops/run/models-bench").toString());
      }
      BenchOptions o = BenchOptions.parse(rest.toArray(new String[0]));
      if (o.gpus().size() != 1 || o.frontends().size() != 1 || o.routes().size() != 1) {
        throw new IllegalArgumentException("--gpus, --frontends and --routes take one value each");
      }
      return new Options(o, !second.equals("loaded"), !second.equals("idle"), bLoad, rounds);
    }

    private static void defaults(List<String> args, String option, String value) {
      if (!args.contains(option)) {
        args.addAll(List.of(option, value));
      }
    }

    private static String value(String[] args, int i, String option) {
      if (i >= args.length) {
        throw new IllegalArgumentException(option + ": missing value");
      }
      return args[i];
    }

    private static double number(String v, String option) {
      try {
        return Double.parseDouble(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(option + " " + v + ": not a number");
      }
    }
  }

  private ModelsBenchmark() {}

  public static void main(String[] args) {
    BenchMain.main(
        "bert-serving-benchmark-models", args, Options::parse, Options.USAGE, ModelsBenchmark::run);
  }

  /**
   * Measures every column the options ask for, each {@code rounds} times; prints the table at the
   * end. Returns the columns' measurements, A alone first.
   */
  static List<List<ModelsColumn>> run(Options options) throws Exception {
    long started = System.nanoTime();
    BenchOptions o = options.bench();
    Path a = SyntheticModel.write(o.logs().resolve("models").resolve(A), o.dim(), 0);
    Path b = SyntheticModel.write(o.logs().resolve("models").resolve(B), o.dim(), 97);
    SimulatedCluster.tlsStores(o.root(), o.logs().resolve("tls"), o.logs().resolve("tls.log"));
    Corpus as = Corpus.build(a, 1024, o.maxSeqLen(), o.dim(), o.timing(), A);
    Corpus bs = Corpus.build(b, 1024, o.maxSeqLen(), o.dim(), o.timing(), B);
    int gpus = o.gpus().get(0);
    SimulatedCluster.Setup setup = SimulatedCluster.Setup.of(o, a);
    List<ModelsColumn> alone = new ArrayList<>();
    List<ModelsColumn> idle = new ArrayList<>();
    List<ModelsColumn> loaded = new ArrayList<>();
    int bConnections = Math.max(4, o.inflight() / 4);
    try (SimulatedCluster c = SimulatedCluster.frontends(setup, o.frontends().get(0))) {
      ModelsColumn.Target t = new ModelsColumn.Target(c, a, as, b, bs, o.dim());
      c.workers(gpus, a, "a-worker");
      progress(started, "model A's workers up: " + gpus + " GPU(s)");
      answeredBy(c, A);
      warm(t, as, o, o.frontendWarmSeconds(), o.maxWarmSeconds(), "model A");
      c.workers(gpus, b, "b-worker");
      progress(started, "model B's workers joined: " + gpus + " GPU(s)");
      answeredBy(c, B);
      answeredBy(c, A);
      double bCapacity =
          warm(
              t,
              bs,
              o,
              o.workerWarmSeconds(),
              Math.max(o.workerWarmSeconds(), o.maxWarmSeconds() / 2), // the frontend is warm
              "model B");
      // A again, B idle: the rate A's paced phases run at in every column, on JVMs now compiled
      double paced = warm(t, as, o, 0, 6, "model A beside B") / 2;
      for (int r = 0; r < options.rounds(); r++) {
        if (options.idle()) {
          idle.add(ModelsColumn.measure("A + idle B", t, o, paced, 0, bConnections));
        }
        if (options.loaded()) {
          loaded.add(
              ModelsColumn.measure(
                  "A + loaded B", t, o, paced, options.bLoad() * bCapacity, bConnections));
        }
      }
      // A alone last, on the JVMs compiled the longest: the run's drift counts against B's
      // columns, never for them
      c.stopWorkers(b);
      progress(started, "model B's workers left");
      for (int r = 0; r < options.rounds(); r++) {
        alone.add(ModelsColumn.measure("A alone", t, o, paced, 0, bConnections));
      }
    }
    List<List<ModelsColumn>> columns =
        java.util.stream.Stream.of(alone, idle, loaded).filter(l -> !l.isEmpty()).toList();
    ModelsReport.print(options, as, columns);
    System.out.printf(Locale.ROOT, "%nRun took %.0f s.%n", (System.nanoTime() - started) / 1e9);
    return columns;
  }

  /**
   * One {@code /encode} naming {@code model}: its reply must name the same model (the vectors of
   * every measured row are checked as well, by their model's vocabulary).
   */
  private static void answeredBy(SimulatedCluster c, String model) throws Exception {
    try (RawHttp http = new RawHttp(c.httpPorts().get(0))) {
      RawHttp.Response r =
          http.post(
              "/encode", "", BenchRoute.ENCODE_JSON.body(0, List.of("the dog and the cat"), model));
      String body = new String(r.body(), StandardCharsets.UTF_8);
      String named = new ObjectMapper().readTree(r.body()).path("model").asText(null);
      if (r.status() != 200 || !model.equals(named)) {
        throw new IllegalStateException(
            "POST /encode naming " + model + ": " + r.status() + " " + body);
      }
    }
  }

  /** Saturated load on {@code corpus}'s model until steady; its last slice's rows/s. */
  private static double warm(
      ModelsColumn.Target t, Corpus corpus, BenchOptions o, double least, double most, String what)
      throws InterruptedException {
    BenchRoute route = o.routes().get(0);
    return BenchLoad.warm(
        corpus,
        th -> t.channel(corpus, route, th),
        o.inflight(),
        least,
        most,
        what + ", " + route.label);
  }

  private static void progress(long started, String what) {
    System.err.printf(Locale.ROOT, "%s after %.1f s%n", what, (System.nanoTime() - started) / 1e9);
  }
}

package org.bertserving.tools;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bertserving.client.BertClient;

/**
 * The serving path's own cost, on simulated GPUs: real frontend and worker JVMs on loopback (Artery
 * over TLS, as shipped), workers running {@link SyntheticBackend} cards, load from keep-alive
 * connections of this JVM, every row checked. One Markdown table row per cell: simulated GPUs x
 * frontends x route/format ({@link BenchOptions} lists the options).
 */
public final class ClusterBenchmark {
  private static volatile SimulatedCluster current;

  private final BenchOptions o;
  private final Corpus corpus;
  private final List<Cell> cells = new ArrayList<>();

  /** One measured cell, as its table row says it. */
  record Cell(
      int gpus,
      int frontends,
      String route,
      String formats,
      double rowsPerSecond,
      double frontendMicrosPerRow,
      double workerMicrosPerRow,
      long lost,
      long misplaced,
      String row) {}

  private ClusterBenchmark(BenchOptions o, Corpus corpus) {
    this.o = o;
    this.corpus = corpus;
  }

  public static void main(String[] args) throws Exception {
    BenchOptions o;
    try {
      o = BenchOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bert-serving-benchmark-cluster: " + e.getMessage());
      System.err.print(BenchOptions.USAGE);
      System.exit(2);
      return;
    }
    // Ctrl-C or a failure: the nodes of the cluster under way go with this JVM
    Runtime.getRuntime().addShutdownHook(new Thread(ClusterBenchmark::reap, "bench-reaper"));
    int code = 0;
    try {
      run(o);
    } catch (Exception e) {
      System.err.println("bert-serving-benchmark-cluster: " + e);
      code = 1;
    } finally {
      reap();
    }
    System.exit(code);
  }

  private static void reap() {
    SimulatedCluster c = current;
    current = null;
    if (c != null) {
      c.close();
    }
  }

  /** Runs every cell the options ask for; prints the table as it goes. */
  static List<Cell> run(BenchOptions o) throws Exception {
    long started = System.nanoTime();
    Path model = SyntheticModel.write(o.logs().resolve("model"), o.dim());
    SimulatedCluster.tlsStores(o.root(), o.logs().resolve("tls"), o.logs().resolve("tls.log"));
    Corpus corpus = Corpus.build(model, 1024, o.maxSeqLen(), o.dim(), o.timing());
    ClusterBenchmark bench = new ClusterBenchmark(o, corpus);
    bench.header(model);
    SimulatedCluster.Setup setup =
        new SimulatedCluster.Setup(
            o.root(),
            model,
            o.logs().resolve("tls"),
            o.logs().resolve("nodes"),
            o.maxSeqLen(),
            o.gpusPerJvm(),
            o.pinFrontend(),
            o.workerJvm());
    for (int gpus : o.gpus()) {
      for (int frontends : o.frontends()) {
        bench.cluster(setup, gpus, frontends);
      }
    }
    System.out.printf(Locale.ROOT, "%nRun took %.0f s.%n", (System.nanoTime() - started) / 1e9);
    return bench.cells;
  }

  private void header(Path model) {
    double fill = 0;
    for (int round = 0; round < 3; round++) { // the last, once compiled
      long t = System.nanoTime();
      for (int i = 0; i < 20_000; i++) {
        SyntheticBackend.vector(i, o.dim());
      }
      fill = (System.nanoTime() - t) / 1e3 / 20_000;
    }
    System.out.printf(
        Locale.ROOT,
        "# Serving path on simulated GPUs%n%n"
            + "CPU: %s, %d cores (load generator, frontends and workers share them), Java %s.%n"
            + "Simulated GPU: %s; vectors %d wide, a function of the row's token ids (%.1f µs a"
            + " row to fill, counted in the worker's CPU).%n"
            + "Requests: %d texts each, every text distinct (%.1f word pieces on average, max_seq_len"
            + " %d); one alone on a card takes %.2f ms. Model folder: %s.%n"
            + "Nodes: frontend-only and worker-only JVMs (cluster-conf/frontend.conf, worker.conf),"
            + " Artery over TLS on 127.0.0.1, at most %d simulated GPUs a worker JVM%s.%n"
            + "Load: %s; %.1f s measured a phase.%n%n"
            + "rows/s: rows answered right in the saturated phase. frontend µs/row, worker µs/row:"
            + " the JVMs' utime+stime (/proc/PID/stat) over that window / rows; the simulated GPU"
            + " waits rather than computes, so all the worker's CPU is outside the engine"
            + " (tokenizing, batching, Artery, TLS, GC). load µs/row: this JVM's (the clients'"
            + " JSON/npy parsing and checking). others: the CPU every other process of the machine took"
            + " meanwhile, in cores (other jobs on a shared machine). GPU busy: the workers' time in runs / (GPUs x"
            + " window). latency added: client latency minus what the card takes for that"
            + " request's %d rows as one run%s. lost: rows not answered (errors); misplaced: rows"
            + " whose vector is not their text's.%n%n",
        ProcCpu.cpuModel(),
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        o.timing(),
        o.dim(),
        fill,
        Corpus.ROWS,
        corpus.meanTokens(),
        o.maxSeqLen(),
        corpus.meanEngineMillis(),
        model,
        o.gpusPerJvm(),
        o.pinFrontend() == null
            ? ""
            : "; frontends pinned: taskset -c " + String.join(",", o.pinFrontend()),
        o.describeLoad(),
        o.seconds(),
        Corpus.ROWS,
        o.half()
            ? ", measured in the phase at half the saturated rate"
            : ", measured at saturation");
    System.out.println(
        "| GPUs | frontends | route | format | rows/s | frontend µs/row | worker µs/row"
            + " | load µs/row | others, cores | GPU busy | rows/run | p50 ms added"
            + " | p99 ms added | lost | misplaced |");
    System.out.println(
        "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    System.out.flush();
  }

  /** Starts one cluster, measures its cells, stops it. */
  private void cluster(SimulatedCluster.Setup setup, int gpus, int frontends) throws Exception {
    System.err.printf(Locale.ROOT, "starting %d GPU(s), %d frontend(s) ...%n", gpus, frontends);
    long t = System.nanoTime();
    SimulatedCluster c = SimulatedCluster.start(setup, gpus, frontends);
    current = c;
    System.err.printf(
        Locale.ROOT,
        "  up in %.1f s (%d worker JVMs)%n",
        (System.nanoTime() - t) / 1e9,
        c.workerJvms());
    try {
      // fresh JVMs: every route's code compiled before any is measured, so that the first cell
      // does not pay for the JIT of the frontend's common path alone
      for (BenchRoute route : o.routes()) {
        new CellLoad(corpus)
            .closed(
                b -> rawChannel(c, route, b),
                o.inflight(),
                (long) (o.clusterWarmSeconds() * 1e9),
                0,
                () -> {});
      }
      for (BenchRoute route : o.routes()) {
        measure(c, gpus, frontends, route.label, b -> rawChannel(c, route, b));
      }
      if (o.sdk()
          && gpus == o.gpus().get(o.gpus().size() - 1)
          && frontends == o.frontends().get(0)) {
        List<BertClient> clients = new ArrayList<>();
        for (int port : c.httpPorts()) {
          clients.add(
              BertClient.builder()
                  .http(URI.create("http://127.0.0.1:" + port))
                  .timeout(Duration.ofMinutes(2))
                  .retries(0)
                  .checkLength(false)
                  .build());
        }
        try {
          measure(c, gpus, frontends, "Java SDK BertClient.encode", t2 -> sdkChannel(clients, t2));
        } finally {
          clients.forEach(BertClient::close);
        }
      }
    } finally {
      current = null;
      c.close();
    }
  }

  private CellLoad.Channel rawChannel(SimulatedCluster c, BenchRoute route, int thread) {
    RawHttp http = new RawHttp(c.httpPorts().get(thread % c.httpPorts().size()));
    return new CellLoad.Channel() {
      @Override
      public CellLoad.Answer call(int block) throws Exception {
        RawHttp.Response r = http.post(route.path, route.headers, corpus.body(route, block));
        if (r.status() != 200) {
          return new CellLoad.Answer(
              r.status(),
              BenchRoute.format(r.contentType()),
              null,
              new String(
                  r.body(),
                  0,
                  Math.min(300, r.body().length),
                  java.nio.charset.StandardCharsets.UTF_8));
        }
        return new CellLoad.Answer(
            200, BenchRoute.format(r.contentType()), route.vectors(r, o.dim()), null);
      }

      @Override
      public void close() {
        http.close();
      }
    };
  }

  private CellLoad.Channel sdkChannel(List<BertClient> clients, int thread) {
    BertClient client = clients.get(thread % clients.size());
    return block -> new CellLoad.Answer(200, "SDK", client.encode(corpus.block(block)), null);
  }

  /** One cell: the saturated phase, then (with the half load) the paced one. */
  private void measure(
      SimulatedCluster c,
      int gpus,
      int frontends,
      String route,
      java.util.function.IntFunction<CellLoad.Channel> channels)
      throws Exception {
    CellLoad load = new CellLoad(corpus);
    long measure = (long) (o.seconds() * 1e9);
    long warm = (long) (o.warmSeconds() * 1e9);
    long[] cpu = new long[8];
    double[][] busy = new double[2][];
    int[] at = {0};
    CellLoad.Tally saturated =
        load.closed(
            channels,
            o.inflight(),
            warm,
            measure,
            () -> {
              int i = at[0]++;
              cpu[i * 4] = c.frontendCpuNanos();
              cpu[i * 4 + 1] = c.workerCpuNanos();
              cpu[i * 4 + 2] = ProcCpu.self();
              cpu[i * 4 + 3] = ProcCpu.machineNanos();
              busy[i] = c.workerBusy();
            });
    double seconds = measure / 1e9;
    double rate = saturated.okRows() / seconds;
    CellLoad.Tally latency = saturated;
    long lost = saturated.lostRows();
    long misplaced = saturated.misplacedRows();
    if (o.half() && rate > 0) {
      latency =
          load.paced(
              channels, o.inflight(), rate / 2 / Corpus.ROWS, 500_000_000L, measure, () -> {});
      lost += latency.lostRows();
      misplaced += latency.misplacedRows();
    }
    double perRow = Math.max(1, saturated.okRows()) * 1e3; // ns -> µs a row
    double runs = busy[1][1] - busy[0][1];
    String row =
        String.format(
            Locale.ROOT,
            "| %d | %d | %s | %s | %.0f | %.1f | %.1f | %.1f | %.2f | %.0f %% | %s | %.1f | %.1f | %d"
                + " | %d |",
            gpus,
            frontends,
            route,
            saturated.formats().isEmpty() ? "-" : String.join("+", saturated.formats()),
            rate,
            (cpu[4] - cpu[0]) / perRow,
            (cpu[5] - cpu[1]) / perRow,
            (cpu[6] - cpu[2]) / perRow,
            Math.max(
                    0,
                    (cpu[7] - cpu[3]) - (cpu[4] - cpu[0]) - (cpu[5] - cpu[1]) - (cpu[6] - cpu[2]))
                / 1e9
                / seconds,
            100 * (busy[1][0] - busy[0][0]) / (gpus * seconds),
            runs > 0 ? String.format(Locale.ROOT, "%.0f", saturated.okRows() / runs) : "-",
            latency.quantileMillis(0.5),
            latency.quantileMillis(0.99),
            lost,
            misplaced);
    System.out.println(row);
    System.out.flush();
    cells.add(
        new Cell(
            gpus,
            frontends,
            route,
            String.join("+", saturated.formats()),
            rate,
            (cpu[4] - cpu[0]) / perRow,
            (cpu[5] - cpu[1]) / perRow,
            lost,
            misplaced,
            row));
    if (!saturated.statuses().keySet().equals(java.util.Set.of("200"))
        || (latency != saturated && !latency.statuses().keySet().equals(java.util.Set.of("200")))) {
      System.err.println(
          "  answers: "
              + saturated.statuses()
              + (latency != saturated ? " then " + latency.statuses() : "")
              + "; first error: "
              + (saturated.firstError() != null ? saturated.firstError() : latency.firstError()));
    }
  }

  static List<Integer> ints(String list) {
    return Arrays.stream(list.split(",")).map(String::trim).map(Integer::valueOf).toList();
  }
}

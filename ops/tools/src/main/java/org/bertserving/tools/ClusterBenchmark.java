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
  private final BenchOptions o;
  private final Corpus corpus;
  private final List<BenchTable.Cell> cells = new ArrayList<>();

  private ClusterBenchmark(BenchOptions o, Corpus corpus) {
    this.o = o;
    this.corpus = corpus;
  }

  public static void main(String[] args) {
    BenchMain.main(
        "bert-serving-benchmark-cluster",
        args,
        BenchOptions::parse,
        BenchOptions.USAGE,
        ClusterBenchmark::run);
  }

  /** Runs every cell the options ask for; prints the table as it goes. */
  static List<BenchTable.Cell> run(BenchOptions o) throws Exception {
    long started = System.nanoTime();
    if (o.otherCores() != null) { // the load generator off the frontends' cores too
      Process p =
          new ProcessBuilder(
                  "taskset",
                  "-a",
                  "-p",
                  "-c",
                  o.otherCores(),
                  String.valueOf(ProcessHandle.current().pid()))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (p.waitFor() != 0) {
        throw new IllegalStateException("taskset -a -p -c " + o.otherCores() + " failed");
      }
    }
    Path model = SyntheticModel.write(o.logs().resolve("model"), o.dim());
    SimulatedCluster.tlsStores(o.root(), o.logs().resolve("tls"), o.logs().resolve("tls.log"));
    Corpus corpus = Corpus.build(model, 1024, o.maxSeqLen(), o.dim(), o.timing());
    ClusterBenchmark bench = new ClusterBenchmark(o, corpus);
    BenchTable.header(o, corpus, model);
    SimulatedCluster.Setup setup = SimulatedCluster.Setup.of(o, model);
    for (int frontends : o.frontends()) {
      bench.frontends(setup, frontends);
    }
    System.out.printf(Locale.ROOT, "%nRun took %.0f s.%n", (System.nanoTime() - started) / 1e9);
    return bench.cells;
  }

  /** Starts the frontends, then each set of workers in turn, and measures their cells. */
  private void frontends(SimulatedCluster.Setup setup, int frontends) throws Exception {
    long t = System.nanoTime();
    try (SimulatedCluster c = SimulatedCluster.frontends(setup, frontends)) {
      boolean fresh = true;
      for (int gpus : o.gpus()) {
        c.workers(gpus);
        System.err.printf(
            Locale.ROOT,
            "%d frontend(s), %d GPU(s) in %d worker JVM(s): up after %.1f s%n",
            frontends,
            gpus,
            c.workerJvms(),
            (System.nanoTime() - t) / 1e9);
        // fresh JVMs: every route's code compiled before any is measured (the frontends' only
        // once, the workers' for each set), so that no cell pays for another's JIT
        for (BenchRoute route : o.routes()) {
          warm(c, route, fresh ? o.frontendWarmSeconds() : o.workerWarmSeconds());
        }
        fresh = false;
        for (BenchRoute route : o.routes()) {
          measure(c, gpus, frontends, route.label, b -> rawChannel(c, route, b));
        }
        if (o.sdk()
            && gpus == o.gpus().get(o.gpus().size() - 1)
            && frontends == o.frontends().get(0)) {
          sdk(c, gpus, frontends);
        }
        t = System.nanoTime();
        c.stopWorkers();
      }
    }
  }

  private void sdk(SimulatedCluster c, int gpus, int frontends) throws Exception {
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
      measure(c, gpus, frontends, "Java SDK BertClient.encode", t -> sdkChannel(clients, t));
    } finally {
      clients.forEach(BertClient::close);
    }
  }

  private CellLoad.Channel rawChannel(SimulatedCluster c, BenchRoute route, int thread) {
    return BenchLoad.raw(c.httpPorts(), route, corpus, o.dim(), thread);
  }

  private CellLoad.Channel sdkChannel(List<BertClient> clients, int thread) {
    BertClient client = clients.get(thread % clients.size());
    return block -> new CellLoad.Answer(200, "SDK", client.encode(corpus.block(block)), null);
  }

  /** Load on {@code route} until the JVMs are at steady state ({@link BenchLoad#warm}). */
  private void warm(SimulatedCluster c, BenchRoute route, double least) throws Exception {
    BenchLoad.warm(
        corpus, b -> rawChannel(c, route, b), o.inflight(), least, o.maxWarmSeconds(), route.label);
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
    BenchTable.Usage[] window = new BenchTable.Usage[2];
    CellLoad.Tally saturated =
        load.closed(
            channels,
            o.inflight(),
            warm,
            measure,
            () -> window[window[0] == null ? 0 : 1] = BenchTable.Usage.of(c));
    double seconds = measure / 1e9;
    CellLoad.Tally latency = saturated;
    if (o.half() && saturated.okRows() > 0) {
      double perSecond = saturated.okRows() / seconds / 2 / Corpus.ROWS;
      latency = load.paced(channels, o.inflight(), perSecond, 500_000_000L, measure, () -> {});
    }
    BenchTable.Cell cell =
        BenchTable.Cell.of(
            gpus, frontends, route, seconds, saturated, latency, window[1].since(window[0]));
    System.out.println(cell.row());
    System.out.flush();
    cells.add(cell);
    for (CellLoad.Tally t : List.of(saturated, latency)) {
      if (!t.statuses().keySet().equals(java.util.Set.of("200"))) {
        System.err.println("  answers: " + t.statuses() + "; first error: " + t.firstError());
      }
    }
  }

  static List<Integer> ints(String list) {
    return Arrays.stream(list.split(",")).map(String::trim).map(Integer::valueOf).toList();
  }
}

package org.bertserving.tools;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The cluster benchmark's output: its header (the machine, the model, the definitions) and rows.
 */
final class BenchTable {
  private BenchTable() {}

  /** The CPU the nodes and this JVM have used so far, the workers' busy time and TF runs. */
  record Usage(
      long frontend, long worker, long load, long machine, double busySeconds, double tfRuns) {
    static Usage of(SimulatedCluster c) {
      double[] busy = c.workerBusy();
      return new Usage(
          c.frontendCpuNanos(),
          c.workerCpuNanos(),
          ProcCpu.self(),
          ProcCpu.machineNanos(),
          busy[0],
          busy[1]);
    }

    Usage since(Usage before) {
      return new Usage(
          frontend - before.frontend,
          worker - before.worker,
          load - before.load,
          machine - before.machine,
          busySeconds - before.busySeconds,
          tfRuns - before.tfRuns);
    }

    /** What every other process of the machine used, in ns. */
    long others() {
      return Math.max(0, machine - frontend - worker - load);
    }
  }

  /** One measured cell. */
  record Cell(
      int gpus,
      int frontends,
      String route,
      String formats,
      double rowsPerSecond,
      double frontendMicrosPerRow,
      double workerMicrosPerRow,
      double loadMicrosPerRow,
      double otherCores,
      double gpuBusy,
      double rowsPerRun,
      double p50,
      double p99,
      long lost,
      long misplaced) {

    /**
     * The cell of a saturated phase ({@code window} its usage) and the phase its latency comes from
     * (the same, or the one paced at half its rate).
     */
    static Cell of(
        int gpus,
        int frontends,
        String route,
        double seconds,
        CellLoad.Tally saturated,
        CellLoad.Tally latency,
        Usage window) {
      double rows = Math.max(1, saturated.okRows());
      boolean second = latency != saturated;
      return new Cell(
          gpus,
          frontends,
          route,
          saturated.formats().isEmpty() ? "-" : String.join("+", saturated.formats()),
          saturated.okRows() / seconds,
          window.frontend() / 1e3 / rows,
          window.worker() / 1e3 / rows,
          window.load() / 1e3 / rows,
          window.others() / 1e9 / seconds,
          window.busySeconds() / (gpus * seconds),
          window.tfRuns() > 0 ? saturated.okRows() / window.tfRuns() : Double.NaN,
          latency.quantileMillis(0.5),
          latency.quantileMillis(0.99),
          saturated.lostRows() + (second ? latency.lostRows() : 0),
          saturated.misplacedRows() + (second ? latency.misplacedRows() : 0));
    }

    String row() {
      return String.format(
          Locale.ROOT,
          "| %d | %d | %s | %s | %.0f | %.1f | %.1f | %.1f | %.2f | %.0f %% | %.0f | %.1f | %.1f"
              + " | %d | %d |",
          gpus,
          frontends,
          route,
          formats,
          rowsPerSecond,
          frontendMicrosPerRow,
          workerMicrosPerRow,
          loadMicrosPerRow,
          otherCores,
          100 * gpuBusy,
          rowsPerRun,
          p50,
          p99,
          lost,
          misplaced);
    }
  }

  static void header(BenchOptions o, Corpus corpus, Path model) {
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
            + "Requests: %d texts each, every text distinct (%.1f word pieces on average,"
            + " max_seq_len %d); one alone on a card takes %.2f ms. Model folder: %s.%n"
            + "Nodes: frontend-only and worker-only JVMs (cluster-conf/frontend.conf, worker.conf),"
            + " Artery over TLS on 127.0.0.1, at most %d simulated GPUs a worker JVM%s.%n"
            + "Load: %s; %.1f s measured a phase.%n%n"
            + "rows/s: rows answered right in the saturated phase. frontend µs/row, worker µs/row:"
            + " the JVMs' utime+stime (/proc/PID/stat) over that window / rows; the simulated GPU"
            + " waits rather than computes, so all the worker's CPU is outside the engine"
            + " (tokenizing, batching, Artery, TLS, GC). load µs/row: this JVM's (the clients'"
            + " parsing and checking). others: the CPU every other process of the machine took"
            + " meanwhile, in cores (other jobs on a shared machine). GPU busy: the workers' time"
            + " in runs / (GPUs x window). rows/run: rows a simulated run carried. latency added:"
            + " client latency minus what the card takes for that request's %d rows as one"
            + " run%s. lost: rows not answered (errors); misplaced: rows whose vector is not"
            + " their text's.%n%n",
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
            : "; frontends pinned: taskset -c "
                + String.join(",", o.pinFrontend())
                + (o.otherCores() == null
                    ? ""
                    : ", workers and the load generator on " + o.otherCores()),
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
}

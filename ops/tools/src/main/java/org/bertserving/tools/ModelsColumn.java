package org.bertserving.tools;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One column of the second-model benchmark: model A saturated (closed loop) and then paced at a
 * fixed rate, while model B's workers are absent, idle, or under their own paced load from other
 * connections for the whole of A's phases. Every row of both models is checked against the vector
 * its text has under its own model, so a row the wrong model's worker answered counts as misplaced.
 */
record ModelsColumn(
    String label,
    double seconds,
    CellLoad.Tally saturated,
    CellLoad.Tally paced,
    CellLoad.Tally b,
    double bSeconds,
    Usage usage) {

  /**
   * CPU the JVMs used (ns): frontends (and their JIT compiler threads, part of it), A's workers,
   * B's workers, this JVM, the whole machine.
   */
  record Usage(
      long frontend, long frontendJit, long workersA, long workersB, long load, long machine) {
    static Usage of(SimulatedCluster c, Path a, Path b) {
      return new Usage(
          c.frontendCpuNanos(),
          c.frontendCompilerNanos(),
          c.workerCpuNanos(a),
          c.workerCpuNanos(b),
          ProcCpu.self(),
          ProcCpu.machineNanos());
    }

    Usage since(Usage before) {
      return new Usage(
          frontend - before.frontend,
          Math.max(0, frontendJit - before.frontendJit), // a compiler thread may have ended
          workersA - before.workersA,
          workersB - before.workersB,
          load - before.load,
          machine - before.machine);
    }

    /** Every other process of the machine. */
    long others() {
      return Math.max(0, machine - frontend - workersA - workersB - load);
    }
  }

  /** The cluster under test and the two models' folders and requests. */
  record Target(SimulatedCluster cluster, Path a, Corpus as, Path b, Corpus bs, int dim) {
    /** A connection of its own sending {@code corpus}'s requests (A's or B's). */
    CellLoad.Channel channel(Corpus corpus, BenchRoute route, int thread) {
      return BenchLoad.raw(cluster.httpPorts(), route, corpus, dim, thread);
    }
  }

  /**
   * Measures a column: A saturated with {@code o.inflight()} requests in flight, then paced at
   * {@code pacedRowsPerSecond}; B paced at {@code bRowsPerSecond} over {@code bConnections}
   * connections meanwhile (0: B gets nothing).
   */
  static ModelsColumn measure(
      String label,
      Target t,
      BenchOptions o,
      double pacedRowsPerSecond,
      double bRowsPerSecond,
      int bConnections)
      throws Exception {
    BenchRoute route = o.routes().get(0);
    long measure = (long) (o.seconds() * 1e9);
    long warm = (long) (o.warmSeconds() * 1e9);
    AtomicReference<Object> bOutcome = new AtomicReference<>();
    Thread bLoad = null;
    double bSeconds = 2 * o.seconds() + o.warmSeconds() + 2;
    if (bRowsPerSecond > 0) {
      // B starts 0.5 s before A (its unmeasured lead) and is planned to outlast both of A's
      // phases, so that A is measured with B's load under way all the time
      bLoad =
          new Thread(
              () -> {
                try {
                  bOutcome.set(
                      new CellLoad(t.bs())
                          .paced(
                              b -> t.channel(t.bs(), route, b),
                              bConnections,
                              bRowsPerSecond / Corpus.ROWS,
                              500_000_000L,
                              (long) (bSeconds * 1e9),
                              () -> {}));
                } catch (Exception | Error e) {
                  bOutcome.set(e);
                }
              },
              "bench-model-b");
      bLoad.setDaemon(true);
      bLoad.start();
    }
    Usage[] window = new Usage[2];
    CellLoad load = new CellLoad(t.as());
    CellLoad.Tally saturated =
        load.closed(
            b -> t.channel(t.as(), route, b),
            o.inflight(),
            warm + (bLoad != null ? 500_000_000L : 0),
            measure,
            () -> window[window[0] == null ? 0 : 1] = Usage.of(t.cluster(), t.a(), t.b()));
    CellLoad.Tally paced =
        load.paced(
            b -> t.channel(t.as(), route, b),
            o.inflight(),
            pacedRowsPerSecond / Corpus.ROWS,
            500_000_000L,
            measure,
            () -> {});
    CellLoad.Tally bTally = null;
    if (bLoad != null) {
      bLoad.join();
      if (bOutcome.get() instanceof Throwable e) {
        throw new IllegalStateException("model B's load failed: " + e, e);
      }
      bTally = (CellLoad.Tally) bOutcome.get();
    }
    ModelsColumn column =
        new ModelsColumn(
            label, o.seconds(), saturated, paced, bTally, bSeconds, window[1].since(window[0]));
    column.tellErrors();
    return column;
  }

  /** Prints what came back other than 200 (a column's figures then say less than they seem). */
  private void tellErrors() {
    System.err.printf(
        java.util.Locale.ROOT,
        "  %s: A %.0f rows/s saturated, B %.0f rows/s%n",
        label,
        aRowsPerSecond(),
        bRowsPerSecond());
    java.util.Map<String, CellLoad.Tally> tallies = new java.util.LinkedHashMap<>();
    tallies.put("A saturated", saturated);
    tallies.put("A paced", paced);
    if (b != null) {
      tallies.put("B", b);
    }
    tallies.forEach(
        (name, t) -> {
          if (!t.statuses().keySet().equals(java.util.Set.of("200"))) {
            System.err.println(
                "  " + name + " answers: " + t.statuses() + "; first error: " + t.firstError());
          }
        });
  }

  double aRowsPerSecond() {
    return saturated.okRows() / seconds;
  }

  double pacedRowsPerSecond() {
    return paced.okRows() / seconds;
  }

  /** B's rows answered right a second (0 without B's load). */
  double bRowsPerSecond() {
    return b == null ? 0 : b.okRows() / bSeconds;
  }

  /** CPU of {@code nanos} over the saturated window, in cores. */
  double cores(long nanos) {
    return nanos / 1e9 / seconds;
  }

  /** CPU of {@code nanos} per row of A answered in the saturated window, in µs. */
  double perRowA(long nanos) {
    return nanos / 1e3 / Math.max(1, saturated.okRows());
  }

  /** The frontends' CPU per row of either model in the saturated window, in µs. */
  double frontendPerRowAll() {
    double rows = saturated.okRows() + bRowsPerSecond() * seconds;
    return usage.frontend() / 1e3 / Math.max(1, rows);
  }

  long lostA() {
    return saturated.lostRows() + paced.lostRows();
  }

  long misplacedA() {
    return saturated.misplacedRows() + paced.misplacedRows();
  }
}

package org.bertserving.tools;

import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** The second-model benchmark's output: what was run, then the side-by-side table. */
final class ModelsReport {
  private ModelsReport() {}

  static void print(
      ModelsBenchmark.Options options, Corpus corpus, List<List<ModelsColumn>> columns) {
    BenchOptions o = options.bench();
    int gpus = o.gpus().get(0);
    System.out.printf(
        Locale.ROOT,
        "# A second model in the cluster%n%n"
            + "CPU: %s, %d cores (load generator, frontends and workers share them), Java %s.%n"
            + "Cluster: %d frontend JVM(s); model %s on %d simulated GPU(s) (%s); model %s on as"
            + " many, in worker JVMs of their own. Artery over TLS on 127.0.0.1.%n"
            + "Order: A's workers up and warmed; B's joined and warmed (saturated: its capacity);"
            + " A saturated briefly beside idle B (its rate, halved, paces A in every column);"
            + " then A + idle B, A + loaded B; then B's workers leave and A alone is measured"
            + " last, on the JVMs compiled the longest, so the run's drift counts against B's"
            + " columns, never for them. Each column: the median of %d round(s) (idle and loaded"
            + " interleaved); rows lost and misplaced: summed over them.%n"
            + "Requests: %s, %d texts each (%.1f word pieces on average), every one naming its"
            + " model; every row checked against its text's vector under its own model (the two"
            + " vocabularies give each text other token ids, so a row from the wrong model's"
            + " worker counts as misplaced).%n"
            + "Model A: %d requests in flight (saturated, %.1f s measured), then paced at the same"
            + " rate in every column (%.1f s measured): the latency added over the engine (what"
            + " the card takes for the request's rows as one run) is from that phase. Model B"
            + " loaded: paced at %.0f %% of its capacity, over %d connections of its own, through"
            + " both of A's phases.%n"
            + "CPU: utime+stime of the JVMs (/proc/PID/stat) over A's saturated window, as cores"
            + " (CPU seconds a second) and per row of A; frontend µs per row of A charges B's"
            + " rows to A, the next line spreads it over both models' rows; the frontend's JIT"
            + " compiler threads' share (C1, C2; at least) says how much of a difference is"
            + " code still being compiled. others: every other process of the machine.%n%n",
        ProcCpu.cpuModel(),
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        o.frontends().get(0),
        ModelsBenchmark.A,
        gpus,
        o.timing(),
        ModelsBenchmark.B,
        options.rounds(),
        o.routes().get(0).label,
        Corpus.ROWS,
        corpus.meanTokens(),
        o.inflight(),
        o.seconds(),
        o.seconds(),
        100 * options.bLoad(),
        Math.max(4, o.inflight() / 4));
    System.out.print(table(columns).render("model A (B: model B)"));
    System.out.flush();
  }

  /** The figures of every column (the medians of its rounds), side by side. */
  static ModelsTable table(List<List<ModelsColumn>> columns) {
    ModelsTable t = new ModelsTable(columns.stream().map(c -> c.get(0).label()).toList());
    t.add("A rows/s, saturated", "%.0f", true, each(columns, ModelsColumn::aRowsPerSecond));
    t.add("A rows/s, paced", "%.0f", true, each(columns, ModelsColumn::pacedRowsPerSecond));
    t.add("A p50 ms added, paced", "%.2f", true, each(columns, c -> c.paced().quantileMillis(0.5)));
    t.add(
        "A p99 ms added, paced", "%.2f", true, each(columns, c -> c.paced().quantileMillis(0.99)));
    t.add(
        "frontend µs per row of A",
        "%.1f",
        true,
        each(columns, c -> c.perRowA(c.usage().frontend())));
    t.add(
        "frontend µs per row, A + B", "%.1f", true, each(columns, ModelsColumn::frontendPerRowAll));
    t.add("frontend CPU, cores", "%.2f", true, each(columns, c -> c.cores(c.usage().frontend())));
    t.add(
        "of which the JIT compiler's, cores",
        "%.2f",
        false,
        each(columns, c -> c.cores(c.usage().frontendJit())));
    t.add(
        "A's workers µs per row of A",
        "%.1f",
        true,
        each(columns, c -> c.perRowA(c.usage().workersA())));
    t.add(
        "A's workers CPU, cores", "%.2f", true, each(columns, c -> c.cores(c.usage().workersA())));
    t.add(
        "B's workers CPU, cores", "%.2f", false, each(columns, c -> c.cores(c.usage().workersB())));
    t.add("load generator CPU, cores", "%.2f", true, each(columns, c -> c.cores(c.usage().load())));
    t.add("others' CPU, cores", "%.2f", false, each(columns, c -> c.cores(c.usage().others())));
    t.add("B rows/s (paced)", "%.0f", false, each(columns, ModelsColumn::bRowsPerSecond));
    t.add(
        "B p99 ms added",
        "%.2f",
        false,
        each(columns, c -> c.b() == null ? Double.NaN : c.b().quantileMillis(0.99)));
    t.add("A rows lost", "%.0f", false, sum(columns, c -> c.lostA()));
    t.add("A rows misplaced", "%.0f", false, sum(columns, c -> c.misplacedA()));
    t.add(
        "B rows lost",
        "%.0f",
        false,
        sum(columns, c -> c.b() == null ? Double.NaN : c.b().lostRows()));
    t.add(
        "B rows misplaced",
        "%.0f",
        false,
        sum(columns, c -> c.b() == null ? Double.NaN : c.b().misplacedRows()));
    return t;
  }

  /** Each column's median over its rounds. */
  private static double[] each(List<List<ModelsColumn>> columns, ToDoubleFunction<ModelsColumn> f) {
    return columns.stream().mapToDouble(rounds -> median(rounds.stream().mapToDouble(f))).toArray();
  }

  /** Each column's sum over its rounds (NaN: not measured in any). */
  private static double[] sum(List<List<ModelsColumn>> columns, ToDoubleFunction<ModelsColumn> f) {
    return columns.stream()
        .mapToDouble(
            rounds -> rounds.stream().mapToDouble(f).reduce(Double::sum).orElse(Double.NaN))
        .toArray();
  }

  /** The median of the values that are numbers (the mean of the middle two of an even count). */
  static double median(java.util.stream.DoubleStream values) {
    double[] v = values.filter(x -> !Double.isNaN(x)).sorted().toArray();
    if (v.length == 0) {
      return Double.NaN;
    }
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}

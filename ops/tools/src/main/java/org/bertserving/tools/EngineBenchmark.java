package org.bertserving.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.DefaultModel;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.InputFeatures;

/**
 * Engine throughput on BERT-Base, printed as Markdown tables: seq/s over batch x max_seq_len, the
 * ratio to Google's own SavedModel graph on the same rows in the same run, the share of the
 * machine's measured float32 matmul rate, the gain of length-sorted dynamic padding on a
 * mixed-length corpus, and peak resident memory.
 *
 * <pre>java -cp ... org.bertserving.tools.EngineBenchmark [--quick] [--seconds S]</pre>
 */
public final class EngineBenchmark {
  private static final Random RANDOM = new Random(7);

  private EngineBenchmark() {}

  public static void main(String[] args) throws IOException {
    boolean quick = Arrays.asList(args).contains("--quick");
    double seconds = quick ? 2 : 6;
    int[] batches = quick ? new int[] {1, 32} : new int[] {1, 8, 32, 128, 256};
    int[] lengths = quick ? new int[] {40} : new int[] {20, 40, 80, 160};

    System.out.printf(
        Locale.ROOT,
        "# Engine benchmark%n%n%d cores, Java %s, %s%n%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        cpuModel());
    double matmul = MatMulProbe.gflops(seconds);
    System.out.printf(
        Locale.ROOT, "float32 matmul (1280x768 x 768x3072, TensorFlow): %.1f GFLOP/s%n%n", matmul);

    System.out.println("## Throughput (seq/s), engine vs Google's SavedModel graph, same rows");
    System.out.println();
    System.out.println(
        "Engine at bert-as-service's defaults (pooling_layer -2, REDUCE_MEAN, 11 layers run);"
            + " 'same work' = engine with pooling_layer -1 (all 12 layers, as Google's graph).");
    System.out.println();
    System.out.println(
        "| batch | max_seq_len | engine seq/s | engine (12 layers) seq/s | Google graph seq/s "
            + "| ratio (same work) | share of matmul rate |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|");
    int maxLen = Arrays.stream(lengths).max().orElseThrow();
    EngineSettings defaults = EngineSettings.builder().maxSeqLen(maxLen).build();
    EngineSettings allLayers = defaults.toBuilder().poolingLayers(List.of(-1)).build();
    try (BertEncoder engine = BertEncoder.load(defaults);
        BertEncoder full = BertEncoder.load(allLayers);
        GoogleGraph google = new GoogleGraph(DefaultModel.unpacked(), 0)) {
      BertConfig config = engine.config();
      for (int length : lengths) {
        for (int batch : batches) {
          List<InputFeatures> rows = fixedRows(batch, length);
          double ours = rate(() -> engine.encodeFeatures(rows), batch, seconds);
          double ours12 = rate(() -> full.encodeFeatures(rows), batch, seconds);
          double theirs = rate(() -> google.sequenceOutput(rows, length), batch, seconds);
          double gflops = ours12 * flopsPerSequence(config, length) / 1e9;
          System.out.printf(
              Locale.ROOT,
              "| %d | %d | %.1f | %.1f | %.1f | %.2f | %.0f %% |%n",
              batch,
              length,
              ours,
              ours12,
              theirs,
              ours12 / theirs,
              100 * gflops / matmul);
        }
      }
      System.out.println();
      mixedLengths(seconds);
    }
    System.out.printf(Locale.ROOT, "%npeak resident memory (VmHWM): %s%n", peakRss());
  }

  /** Length-sorted dynamic padding vs padding every row to max_seq_len, on 5..128-token rows. */
  private static void mixedLengths(double seconds) throws IOException {
    EngineSettings settings = EngineSettings.builder().maxSeqLen(128).maxBatchSize(32).build();
    try (BertEncoder engine = BertEncoder.load(settings)) {
      List<InputFeatures> corpus = new ArrayList<>();
      for (int i = 0; i < 256; i++) {
        corpus.add(row(5 + RANDOM.nextInt(124)));
      }
      List<InputFeatures> padded = corpus.stream().map(r -> padTo(r, 128)).toList();
      double dynamic = rate(() -> engine.encodeFeatures(corpus), corpus.size(), seconds);
      double fixed = rate(() -> engine.encodeFeatures(padded), corpus.size(), seconds);
      System.out.println("## Mixed-length corpus (256 rows of 5..128 tokens, max_batch_size 32)");
      System.out.println();
      System.out.println("| padding | seq/s |");
      System.out.println("|---|---:|");
      System.out.printf(Locale.ROOT, "| fixed to max_seq_len 128 | %.1f |%n", fixed);
      System.out.printf(
          Locale.ROOT, "| length-sorted, each run to its longest row | %.1f |%n", dynamic);
      System.out.printf(Locale.ROOT, "| speed-up | %.2f x |%n", dynamic / fixed);
    }
  }

  /** Multiply-adds of one sequence through all encoder layers, times two. */
  static double flopsPerSequence(BertConfig c, int length) {
    double h = c.hiddenSize();
    double perToken = 2 * (4 * h * h + 2 * h * c.intermediateSize());
    double attention = 2 * 2 * (double) length * length * h;
    return c.numHiddenLayers() * (length * perToken + attention);
  }

  private static double rate(Runnable run, int rowsPerRun, double seconds) {
    run.run(); // warm-up: first-run graph optimisation and allocation
    int runs = 0;
    long start = System.nanoTime();
    long end = start + (long) (seconds * 1e9);
    do {
      run.run();
      runs++;
    } while (System.nanoTime() < end);
    return runs * (double) rowsPerRun / ((System.nanoTime() - start) / 1e9);
  }

  private static List<InputFeatures> fixedRows(int batch, int length) {
    List<InputFeatures> rows = new ArrayList<>();
    for (int i = 0; i < batch; i++) {
      rows.add(row(length));
    }
    return rows;
  }

  /** A row of random word pieces between {@code [CLS]} (101) and {@code [SEP]} (102). */
  private static InputFeatures row(int length) {
    int[] ids = new int[length];
    ids[0] = 101;
    for (int i = 1; i < length - 1; i++) {
      ids[i] = 1996 + RANDOM.nextInt(20000);
    }
    ids[length - 1] = 102;
    int[] mask = new int[length];
    Arrays.fill(mask, 1);
    return new InputFeatures(ids, new int[length], mask, List.of());
  }

  private static InputFeatures padTo(InputFeatures r, int length) {
    return new InputFeatures(
        Arrays.copyOf(r.inputIds(), length),
        Arrays.copyOf(r.segmentIds(), length),
        Arrays.copyOf(r.inputMask(), length),
        r.tokens());
  }

  private static String peakRss() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) {
        long kb = Long.parseLong(line.replaceAll("\\D", ""));
        return String.format(Locale.ROOT, "%.2f GiB", kb / 1024.0 / 1024.0);
      }
    }
    return "unknown";
  }

  private static String cpuModel() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
      if (line.startsWith("model name")) {
        return line.substring(line.indexOf(':') + 1).trim();
      }
    }
    return "unknown CPU";
  }
}

package org.bertserving.tools;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.GpuPlatform;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.ModelBackend;
import org.bertserving.engine.ModelFiles;
import org.bertserving.engine.ProductKernel;
import org.bertserving.engine.tf.SizedSessions;
import org.bertserving.engine.tf.TfBertBackend;

/**
 * Where one text alone wins or loses against ONNX Runtime: the benchmark's short query and a text
 * of 35 tokens, the same input ids, by threads. ONNX Runtime on LangChain4j's own model file, on
 * one thread and on all, its workers spinning between ops (its default) or parked ({@code
 * session.intra_op.allow_spinning = 0}); the engine's TensorFlow session of one thread and of all
 * (TensorFlow hands each op to its intra-op workers, which spin only briefly before they park), and
 * its two-part session (each layer in two chains that two threads run side by side). Prints a
 * Markdown table of p50 ms; then, as the reason bfloat16's rows differ from float32's, the model's
 * feed-forward product on each kernel ({@link KernelsTable}).
 */
public final class ThreadsTable {
  /** The benchmark's short query. */
  static final String QUERY = "how do I cook rice?";

  /** The long text's length in tokens, [CLS] and [SEP] included: the benchmark's texts' middle. */
  static final int TOKENS = 35;

  private ThreadsTable() {}

  /**
   * Prints the table, in a JVM of its own: in the benchmark's JVM, after its engines and
   * LangChain4j's embedder had run, ONNX Runtime's spinning workers measured 6.7-7.1 ms on two
   * threads here against 4.7-5.1 ms alone.
   *
   * <pre>ThreadsTable [--seconds S] [--products measured|fused|plain]</pre>
   */
  public static void main(String[] args) throws Exception {
    MiniLmArgs options = MiniLmArgs.parseOrExit(args);
    double seconds = options.seconds();
    ProductKernel products = options.products();
    // only its featurizer is used: one plain session, not the served sessions and their probes
    try (BertEncoder engine =
        BertEncoder.load(
            EngineSettings.builder().model("all-minilm-l6-v2").intraOpThreads(1).build(),
            TfBertBackend::open)) {
      System.out.printf(
          Locale.ROOT,
          "# all-MiniLM-L6-v2, one text alone: ONNX Runtime and this engine by threads%n%n"
              + "%s, %s, Java %s, TF_ONEDNN_ASSUME_FROZEN_WEIGHTS=%s,"
              + " TF_OVERRIDE_GLOBAL_THREADPOOL=%s; products %s; %.0f s per cell after as long"
              + " of warm-up%n%n",
          GpuPlatform.cpu(),
          org.bertserving.engine.CpuIdle.describe(),
          System.getProperty("java.version"),
          System.getenv().getOrDefault("TF_ONEDNN_ASSUME_FROZEN_WEIGHTS", "(unset)"),
          System.getenv().getOrDefault("TF_OVERRIDE_GLOBAL_THREADPOOL", "(unset)"),
          products.name().toLowerCase(Locale.ROOT),
          seconds);
      print(engine, MiniLmBenchmark.texts(engine, 2048), GpuPlatform.cpuBf16(), seconds, products);
      System.out.println();
      KernelsTable.lines(engine.config(), GpuPlatform.cpuBf16()).forEach(System.out::println);
    }
    System.out.println();
  }

  static void print(
      BertEncoder engine, List<String> texts, boolean bf16, double seconds, ProductKernel products)
      throws IOException, OrtException {
    List<InputFeatures> alone =
        List.of(
            engine.featurizer().featurize(List.of(QUERY), false).rows().get(0),
            oneOf(engine, texts));
    int all = Runtime.getRuntime().availableProcessors();
    StringBuilder header = new StringBuilder("| one text alone, p50 ms |");
    for (InputFeatures row : alone) {
      header.append(
          String.format(
              Locale.ROOT,
              " %d tokens, 1 thread | %d tokens, %d threads |",
              row.length(),
              row.length(),
              all));
    }
    System.out.printf("%s%n|---|---:|---:|---:|---:|%n", header);
    byte[] model = onnxModel();
    for (boolean spin : new boolean[] {true, false}) {
      double[] one = ort(model, alone, 1, spin, seconds);
      double[] many = ort(model, alone, all, spin, seconds);
      row(
          "ONNX Runtime, workers "
              + (spin
                  ? "spinning between ops (its default)"
                  : "parked between ops (allow_spinning 0)"),
          one,
          many);
    }
    List<Boolean> dtypes = bf16 ? List.of(false, true) : List.of(false);
    for (boolean b : dtypes) {
      double[] one = new double[alone.size()];
      double[] many = new double[alone.size()];
      double[] split = new double[alone.size()];
      for (int i = 0; i < alone.size(); i++) {
        one[i] = session(alone.get(i), 1, 1, b, seconds, products);
        many[i] = session(alone.get(i), all, 1, b, seconds, products);
        split[i] = session(alone.get(i), 1, SizedSessions.PARTS, b, seconds, products);
      }
      String dtype = b ? " -bf16" : "";
      row("engine" + dtype + ", a TensorFlow session primed on the text", one, many);
      double[] none = new double[alone.size()];
      Arrays.fill(none, Double.NaN);
      row(
          "engine" + dtype + ", its layers in two chains, one thread each (two-part session)",
          none,
          split);
    }
  }

  private static void row(String what, double[] one, double[] many) {
    StringBuilder line = new StringBuilder("| ").append(what).append(" |");
    for (int i = 0; i < one.length; i++) {
      line.append(' ')
          .append(Double.isNaN(one[i]) ? "-" : String.format(Locale.ROOT, "%.2f", one[i]));
      line.append(String.format(Locale.ROOT, " | %.2f |", many[i]));
    }
    System.out.println(line);
  }

  /** A text of the benchmark's of {@link #TOKENS} tokens, featurized by the engine. */
  private static InputFeatures oneOf(BertEncoder engine, List<String> texts) {
    for (String text : texts) {
      InputFeatures row = engine.featurizer().featurize(List.of(text), false).rows().get(0);
      if (row.length() == TOKENS) {
        return row;
      }
    }
    throw new IllegalStateException("no text of " + TOKENS + " tokens among the benchmark's");
  }

  /** LangChain4j's all-MiniLM-L6-v2 ONNX file, from its jar. */
  private static byte[] onnxModel() throws IOException {
    try (InputStream in =
        ThreadsTable.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2.onnx")) {
      if (in == null) {
        throw new IOException("all-minilm-l6-v2.onnx is not on the class path");
      }
      return in.readAllBytes();
    }
  }

  /** ONNX Runtime's p50 for each of {@code rows} alone, on one session of {@code threads}. */
  private static double[] ort(
      byte[] model, List<InputFeatures> rows, int threads, boolean spin, double seconds)
      throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(threads);
      options.addConfigEntry("session.intra_op.allow_spinning", spin ? "1" : "0");
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      try (OrtSession session = env.createSession(model, options)) {
        double[] millis = new double[rows.size()];
        for (int i = 0; i < millis.length; i++) {
          millis[i] = ort(env, session, rows.get(i), seconds);
        }
        return millis;
      }
    }
  }

  private static double ort(
      OrtEnvironment env, OrtSession session, InputFeatures row, double seconds)
      throws OrtException {
    try (OnnxTensor ids = OnnxTensor.createTensor(env, longs(row.inputIds()));
        OnnxTensor mask = OnnxTensor.createTensor(env, longs(row.inputMask()));
        OnnxTensor segments = OnnxTensor.createTensor(env, longs(row.segmentIds()))) {
      Map<String, OnnxTensor> inputs =
          Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", segments);
      return medianMillis(
          () -> {
            try (OrtSession.Result result = session.run(inputs)) {
              result.size();
            } catch (OrtException e) {
              throw new IllegalStateException(e);
            }
          },
          seconds);
    }
  }

  /**
   * The p50 of {@code row} on one session of {@code threads} intra-op threads, its layers cut into
   * {@code parts} chains (on as many inter-op threads) where more than 1, its products on {@code
   * products}.
   */
  private static double session(
      InputFeatures row,
      int threads,
      int parts,
      boolean bf16,
      double seconds,
      ProductKernel products)
      throws IOException {
    EngineSettings.Builder builder =
        EngineSettings.builder()
            .model("all-minilm-l6-v2")
            .bf16(bf16)
            .intraOpThreads(threads)
            .products(products);
    if (parts > 1) {
      builder.interOpThreads(parts);
    }
    EngineSettings settings = builder.build();
    ModelFiles files = ModelFiles.locate(settings);
    BertConfig declared = files.config() == null ? null : BertConfig.read(files.config());
    try (ModelBackend session = TfBertBackend.open(files, declared, settings, parts)) {
      List<InputFeatures> rows = List.of(row);
      return medianMillis(() -> session.run(rows), seconds);
    }
  }

  private static long[][] longs(int[] values) {
    return new long[][] {Arrays.stream(values).asLongStream().toArray()};
  }

  /** The p50 of runs over {@code seconds}, after as long of the same. */
  private static double medianMillis(Runnable run, double seconds) {
    return MiniLmBenchmark.latencyMillis(run, seconds, seconds)[0];
  }
}

package org.bertserving.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bertserving.engine.Featurizer.Featurized;
import org.bertserving.engine.hf.HfConfig;
import org.bertserving.engine.tf.SizedSessions;
import org.bertserving.engine.tokenizer.BasicTokenizer;
import org.bertserving.engine.tokenizer.FullTokenizer;
import org.bertserving.engine.tokenizer.Normalization;
import org.bertserving.engine.tokenizer.TokenizerJson;
import org.bertserving.engine.tokenizer.Vocab;
import org.bertserving.engine.tokenizer.WordpieceTokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine: texts in, vectors out, as bert-as-service. Tokenizes, cuts the rows into
 * length-sorted slices within the batch and token budget, runs the model, puts the rows back in
 * input order, then truncates ({@code dimensions}) and normalizes as asked. Thread-safe; one
 * instance per device.
 */
public final class BertEncoder implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BertEncoder.class);

  /** TensorFlow's switch for its oneDNN kernels, read once when it loads. */
  private static final String ONEDNN_OPTS = "TF_ENABLE_ONEDNN_OPTS";

  private final EngineSettings settings;
  private final BertConfig config;
  private final Featurizer featurizer;
  private final ModelFiles files;
  private final BertConfig declared;
  private final FaultInjector faults = new FaultInjector();
  private final java.util.concurrent.atomic.AtomicLong tfRuns =
      new java.util.concurrent.atomic.AtomicLong();
  private final int dim;
  private volatile ModelBackend backend;
  private final ModelBackend.Opener opener;

  /** The shapes runs are padded to under {@code -xla}; {@code null} without XLA. */
  private final XlaShapes xla;

  private volatile int warmShapes;
  private volatile BatchPlanner.CostModel cost = BatchPlanner.CostModel.DEFAULT;

  private BertEncoder(
      EngineSettings settings,
      BertConfig config,
      Featurizer featurizer,
      ModelBackend backend,
      ModelFiles files,
      BertConfig declared,
      ModelBackend.Opener opener) {
    this.opener = opener;
    this.settings = settings;
    this.config = config;
    this.featurizer = featurizer;
    this.backend = backend;
    this.files = files;
    this.declared = declared;
    this.dim = backend.dim();
    Integer cap = settings.maxSeqLen();
    this.xla =
        settings.xla()
            ? new XlaShapes(
                cap != null ? cap : config.maxPositionEmbeddings(),
                settings.maxBatchSize(),
                settings.tokenBudget())
            : null;
  }

  /** Loads the model the settings name (the default model when none) onto their device. */
  public static BertEncoder load(EngineSettings settings) throws IOException {
    return load(settings, SizedSessions::open);
  }

  /** Refuses -bf16 on a CPU (as {@link GpuPlatform#cpu()} describes it) without bfloat16 units. */
  static void requireBf16(String cpu) {
    if (!GpuPlatform.bf16(cpu)) {
      throw new ModelLoadException(
          "-bf16 needs a CPU with AVX512_BF16 or AMX; this one is a "
              + cpu
              + ", where bfloat16 would be emulated, slower than float32");
    }
  }

  /** Loads the model onto a backend that {@code opener} opens (and opens again on a restart). */
  public static BertEncoder load(EngineSettings settings, ModelBackend.Opener opener)
      throws IOException {
    if (settings.bf16()) {
      if (settings.deviceId() >= 0) {
        throw new ModelLoadException(
            "-bf16 is for CPUs (bfloat16 matmuls of AVX512_BF16 or AMX);"
                + " on GPU "
                + settings.deviceId()
                + " use -fp16");
      }
      requireBf16(GpuPlatform.cpu());
    }
    if (settings.fp16()
        && settings.deviceId() < 0
        && org.bertserving.engine.tf.TfBertBackend.oneDnnOps()) {
      LOG.warn(
          "-fp16 on the CPU: TensorFlow's oneDNN half-precision kernels can be a hundred times"
              + " slower than float32 on CPUs (measured on one with AVX512_FP16); -fp16 is for"
              + " GPUs, -bf16 for CPUs with AVX512_BF16 or AMX ({}=0 before the start uses"
              + " TensorFlow's other kernels)",
          ONEDNN_OPTS);
    }
    long start = System.nanoTime();
    ModelFiles files = ModelFiles.locate(settings);
    BertConfig declared = declaredConfig(files);
    FullTokenizer tokenizer = tokenizer(files, settings);
    Vocab vocab = tokenizer.vocab();
    ModelBackend backend = opener.open(files, declared, settings);
    BertConfig config = backend.config();
    if (vocab.size() > config.vocabSize()) {
      backend.close();
      throw new ModelLoadException(
          "vocabulary "
              + (files.vocab() != null ? files.vocab() : files.tokenizer())
              + " has "
              + vocab.size()
              + " entries but the model only "
              + config.vocabSize()
              + " (wrong vocabulary?)");
    }
    Featurizer featurizer =
        new Featurizer(tokenizer, vocab, settings, config.maxPositionEmbeddings());
    LOG.info(
        "loaded {} from {} ({} layers, hidden {}, max_seq_len {}, {}{}) in {} ms",
        settings.modelName(),
        files.modelDir(),
        config.numHiddenLayers(),
        config.hiddenSize(),
        settings.maxSeqLen() == null ? "NONE" : settings.maxSeqLen(),
        settings.poolingStrategy(),
        settings.normalize() ? ", normalized" : "",
        (System.nanoTime() - start) / 1_000_000);
    return new BertEncoder(settings, config, featurizer, backend, files, declared, opener);
  }

  /** {@code bert_config.json} for Google's layouts, {@code config.json} for Hugging Face's. */
  private static BertConfig declaredConfig(ModelFiles files) throws IOException {
    if (files.config() == null) {
      return null;
    }
    return files.format() == ModelFiles.Format.CHECKPOINT
        ? BertConfig.read(files.config())
        : HfConfig.read(files.config());
  }

  /**
   * Google's tokenizer over {@code vocab.txt} for Google's layouts; for Hugging Face's, the
   * folder's {@code tokenizer.json}, or Hugging Face's BERT tokenizer over its {@code vocab.txt}.
   */
  private static FullTokenizer tokenizer(ModelFiles files, EngineSettings settings)
      throws IOException {
    if (files.tokenizer() != null) {
      return TokenizerJson.read(files.tokenizer(), settings.doLowerCase());
    }
    Vocab vocab = Vocab.load(files.vocab());
    boolean lowerCase =
        settings.doLowerCase() != null
            ? settings.doLowerCase()
            : files.doLowerCase() != null ? files.doLowerCase() : true;
    if (files.format() == ModelFiles.Format.CHECKPOINT) {
      return new FullTokenizer(vocab, lowerCase);
    }
    return new FullTokenizer(
        vocab,
        new BasicTokenizer(new Normalization(lowerCase, lowerCase, true, true, true)),
        new WordpieceTokenizer(vocab, 100, "##"),
        List.of());
  }

  /**
   * Closes the TensorFlow session and opens a new one from the same files: what a worker does after
   * a failed run, since a session that failed (out of memory, a bad kernel) is suspect.
   */
  public synchronized void restartSession() throws IOException {
    long start = System.nanoTime();
    ModelBackend old = backend;
    backend = null;
    if (old != null) {
      old.close();
    }
    backend = opener.open(files, declared, settings);
    LOG.info(
        "new TensorFlow session for {} in {} ms",
        files.modelDir(),
        (System.nanoTime() - start) / 1_000_000);
  }

  /**
   * Warms the session up and measures it: {@code rows} texts of about {@code length} tokens, run
   * twice (the first run pays for graph optimisation); returns the real tokens per second of the
   * second run, the frontend's first estimate of this engine's speed.
   */
  public double calibrate(int rows, int length) {
    Featurized many = featurizer.featurize(texts(rows, length), false);
    Featurized one = featurizer.featurize(texts(1, 8), false);
    encodeFeatures(many.rows());
    encodeFeatures(one.rows());
    double manySeconds = seconds(many.rows(), 1);
    double oneSeconds = seconds(one.rows(), 3);
    // what a run costs whatever its size, and per token: the planner's cost model
    cost =
        BatchPlanner.CostModel.measured(
            oneSeconds,
            one.rows().get(0).length(),
            manySeconds,
            many.rows().size(),
            many.rows().get(0).length(),
            config.hiddenSize());
    long tokens = many.rows().stream().mapToLong(InputFeatures::length).sum();
    return tokens / manySeconds;
  }

  /** The planner's cost model: measured by {@link #calibrate}, a default before. */
  public BatchPlanner.CostModel costModel() {
    return cost;
  }

  /** {@code rows} texts of about {@code length} tokens. */
  private static List<String> texts(int rows, int length) {
    String word = "the"; // one token in every BERT vocabulary ([UNK] would do as well)
    StringBuilder text = new StringBuilder(word);
    for (int i = 2; i < Math.max(1, length - 2); i++) {
      text.append(' ').append(word);
    }
    return java.util.Collections.nCopies(rows, text.toString());
  }

  /** The fastest of {@code times} encodings of {@code rows}, in seconds. */
  private double seconds(List<InputFeatures> rows, int times) {
    long fastest = Long.MAX_VALUE;
    for (int i = 0; i < times; i++) {
      long start = System.nanoTime();
      encodeFeatures(rows);
      fastest = Math.min(fastest, System.nanoTime() - start);
    }
    return Math.max(1, fastest) / 1e9;
  }

  /** What does not change while the process runs: versions, libraries found, the CPU. */
  private record Platform(String tensorflow, String cuda, String cudnn, String cpu) {
    /** Once: a worker describes itself every few seconds, and this lists library folders. */
    static final Platform HERE =
        new Platform(
            org.bertserving.engine.tf.TfBertBackend.tensorflowVersion(),
            String.join(" ", GpuPlatform.cudaRuntimes()),
            String.join(" ", GpuPlatform.cudnns()),
            GpuPlatform.cpu());
  }

  /**
   * What this engine really runs on, for the status: the GPU's name and compute capability as the
   * driver reports them (the GPU was proven at start), or the CPU and its instruction sets.
   */
  public DeviceDescription device() {
    String tensorflow = Platform.HERE.tensorflow();
    String cuda = Platform.HERE.cuda();
    String cudnn = Platform.HERE.cudnn();
    if (settings.deviceId() < 0) {
      return new DeviceDescription(Platform.HERE.cpu(), tensorflow, cuda, cudnn, -1, -1);
    }
    for (GpuPlatform.Gpu gpu : GpuPlatform.gpus()) {
      if (gpu.index() == settings.deviceId()) {
        return new DeviceDescription(
            "GPU "
                + gpu.index()
                + ": "
                + gpu.name()
                + " (compute capability "
                + gpu.computeCapability()
                + ")",
            tensorflow,
            cuda,
            cudnn,
            gpu.memoryUsedMib(),
            (long) (gpu.memoryTotalMib() * settings.gpuMemoryFraction()));
      }
    }
    return new DeviceDescription("GPU " + settings.deviceId(), tensorflow, cuda, cudnn, -1, -1);
  }

  /**
   * The device part of a worker's description ({@code Frontend.WorkerDescription}): what the engine
   * alone knows; the worker adds its model, speed and compiles.
   *
   * @param memoryUsedMib the GPU's memory in use (every process), or -1
   * @param memoryLimitMib what this process may take of it ({@code -gpu_memory_fraction}), or -1
   */
  public record DeviceDescription(
      String device,
      String tensorflow,
      String cudaRuntime,
      String cudnn,
      long memoryUsedMib,
      long memoryLimitMib) {}

  /** Faults to inject into this engine's runs (chaos tests). */
  public FaultInjector faults() {
    return faults;
  }

  /** Encodes texts (or token lists when {@code isTokenized}); all or nothing. */
  public EncodedRows encode(List<?> inputs, boolean isTokenized) {
    return encode(inputs, isTokenized, CallOptions.DEFAULTS);
  }

  /**
   * Encodes texts (or token lists) with a request's own prompt, normalization and dimensions.
   *
   * @throws InvalidInputException for bad input or dimensions; nothing is encoded then
   */
  public EncodedRows encode(List<?> inputs, boolean isTokenized, CallOptions options) {
    int width = options.width(dim);
    Featurized featurized = featurizer.featurize(inputs, isTokenized, options);
    List<float[]> rows = Arrays.asList(output(pooled(featurized.rows()), options));
    List<List<String>> tokens = featurized.rows().stream().map(InputFeatures::tokens).toList();
    return new EncodedRows(
        rows, width, featurized.outputLength(), settings.poolingStrategy().isTokenLevel(), tokens);
  }

  /** Convenience for plain texts at the configured pooling: {@code [B, dim]}. */
  public float[][] encode(List<String> texts) {
    return encode(texts, false).matrix();
  }

  /**
   * Encodes already featurized rows, possibly of several requests, in length-sorted slices (one
   * TensorFlow run each); returns one array per row in the given order, normalized when the
   * settings say so.
   */
  public float[][] encodeFeatures(List<InputFeatures> rows) {
    return output(pooled(rows), CallOptions.DEFAULTS);
  }

  /**
   * The model's vectors for featurized rows, before {@link #output}: what a worker runs once for
   * rows of several requests, each of which may then ask for its own normalization and dimensions.
   */
  public float[][] pooled(List<InputFeatures> rows) {
    float[][] out = new float[rows.size()][];
    for (int[] slice :
        BatchPlanner.plan(rows, settings.maxBatchSize(), settings.tokenBudget(), cost)) {
      if (xla == null) {
        place(out, rows, slice, 0, slice.length, slice.length, 0);
        continue;
      }
      // under XLA only the shapes compiled at warm-up: length and batch padded to their buckets
      int length = xla.length(rows.get(slice[0]).length()); // slices come longest row first
      int from = 0;
      for (int batch : xla.batches(slice.length, length)) {
        int to = Math.min(slice.length, from + batch);
        place(out, rows, slice, from, to, batch, length);
        from = to;
      }
    }
    return out;
  }

  /**
   * Runs rows {@code slice[from..to)} as one TensorFlow run (padded to {@code batch} x {@code
   * length} when > 0).
   */
  private void place(
      float[][] out,
      List<InputFeatures> rows,
      int[] slice,
      int from,
      int to,
      int batch,
      int length) {
    List<InputFeatures> part = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      part.add(rows.get(slice[i]));
    }
    float[][] vectors = runOnce(part, batch, length);
    tfRuns.incrementAndGet();
    for (int i = from; i < to; i++) {
      out[slice[i]] = vectors[i - from];
    }
  }

  /**
   * The longest one-text run {@link #warmUp} runs once ahead of traffic: queries and single texts.
   */
  static final int WARM_LENGTHS = 64;

  /**
   * Compiles every shape this worker will run, before it takes work: under {@code -xla} each shape
   * of {@link XlaShapes} three times (XLA compiles a shape only when it comes again); then counts
   * the shapes, so that {@link #liveCompiles()} shows any compile on live traffic. Otherwise one
   * text of each length up to {@link #WARM_LENGTHS} tokens (at most {@code max_seq_len} and the
   * model's positions) runs once on the session that serves it: the first run of a shape pays for
   * its kernels, which cost MiniLM's first pass over texts of 10-60 tokens one at a time 7 % of its
   * rate (163 rows/s against 174 on the next pass; 169 against 172-174 after this warm-up, AMD EPYC
   * of the README). Then, either way, the tokenizer splits texts until compiled ({@link
   * #warmTokenizer}).
   */
  public void warmUp() {
    if (xla == null) {
      Integer max = settings.maxSeqLen();
      int longest =
          Math.min(
              Math.min(WARM_LENGTHS, config.maxPositionEmbeddings()),
              max == null ? WARM_LENGTHS : max);
      // the session as it is now: a close or a restart may take it away meanwhile
      ModelBackend session = backend;
      for (int length = 1; session != null && length <= longest; length++) {
        session.run(List.of(blank(length)), 1, length); // not the chaos faults' to delay or fail
      }
    } else {
      List<InputFeatures> one = featurizer.featurize(List.of("the"), false).rows();
      for (int[] shape : xla.all()) {
        for (int i = 0; i < 3; i++) {
          runOnce(one, shape[0], shape[1]);
        }
      }
    }
    warmShapes = backend.shapes();
    warmTokenizer();
  }

  /** Texts the tokenizer splits at {@link #warmUp}, one at a time as queries come. */
  static final int WARM_TEXTS = 3000;

  /**
   * Words of the tokenizer's warm-up texts: cased, accented, split into word pieces, punctuated,
   * numbers and a CJK name, the paths through which real text goes.
   */
  private static final String[] WARM_WORDS =
      ("The quick brown fox jumps over lazy dogs, while naïve café owners serve crème brûlée; "
              + "embeddings of 2,048 sentences (10-60 tokens) arrive at 3.5 ms each! Tokenization "
              + "isn't unbelievably hard: WordPiece splits unaffable words into ##pieces. "
              + "東京 and Zürich host clusters; who's asking? Retrieval-augmented generation")
          .split(" ");

  /**
   * Splits {@link #WARM_TEXTS} texts of 3-40 words, one at a time: the JIT compiles the tokenizer
   * before traffic comes rather than while the first queries wait (its compiler threads take the
   * cores the runs need). all-MiniLM-L6-v2's first 256 texts of 10-60 tokens one at a time, a
   * worker's first seconds of such traffic, ran at 141 and 157 rows/s without it, 165 and 164 with
   * it, against 159-182 for the rest of the pass (AMD EPYC of the README, 2 cores, two starts
   * each). About 40 ms of splitting.
   */
  private void warmTokenizer() {
    java.util.Random random = new java.util.Random(7);
    for (int t = 0; t < WARM_TEXTS; t++) {
      StringBuilder text = new StringBuilder(WARM_WORDS[random.nextInt(WARM_WORDS.length)]);
      for (int w = 3 + random.nextInt(38); w > 1; w--) {
        text.append(' ').append(WARM_WORDS[random.nextInt(WARM_WORDS.length)]);
      }
      featurizer.featurize(List.of(text.toString()), false);
    }
  }

  /** One text of {@code length} tokens, every one a real token of id 0 (for timing only). */
  private static InputFeatures blank(int length) {
    int[] mask = new int[length];
    Arrays.fill(mask, 1);
    return new InputFeatures(new int[length], new int[length], mask, List.of());
  }

  /** XLA compiles after warm-up: input shapes never seen at warm-up (0 under {@code -xla}). */
  public long liveCompiles() {
    return settings.xla() ? Math.max(0, backend.shapes() - warmShapes) : 0;
  }

  /** Shapes compiled at warm-up ({@code -xla}), else 0. */
  public long warmCompiles() {
    return settings.xla() ? warmShapes : 0;
  }

  /**
   * Pooled vectors as a request asked: the first {@code dimensions} components of each (of each
   * token's, for token-level output), L2-normalized when asked or configured. The rows of {@code
   * pooled} are normalized in place: they are the caller's to give, fresh from a run.
   *
   * @throws InvalidInputException when {@code dimensions} is out of range
   */
  public float[][] output(float[][] pooled, CallOptions options) {
    int keep = options.width(dim);
    boolean normalize = options.normalize() != null ? options.normalize() : settings.normalize();
    float[][] out = new float[pooled.length][];
    for (int r = 0; r < out.length; r++) {
      out[r] = VectorOutput.apply(pooled[r], dim, keep, normalize);
    }
    return out;
  }

  private float[][] runOnce(List<InputFeatures> batch, int padBatch, int padLength) {
    ModelBackend session = backend;
    if (session == null) {
      throw new EngineException("the TensorFlow session is being restarted");
    }
    faults.beforeRun(batch);
    try {
      return padLength > 0 ? session.run(batch, padBatch, padLength) : session.run(batch);
    } catch (EngineException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new EngineException(
          "TensorFlow run of " + batch.size() + " rows failed: " + e.getMessage(), e);
    }
  }

  /** TensorFlow runs so far: shows how many rows each run carried. */
  public long tfRuns() {
    return tfRuns.get();
  }

  public Featurizer featurizer() {
    return featurizer;
  }

  public BertConfig config() {
    return config;
  }

  public EngineSettings settings() {
    return settings;
  }

  /** Width of one output vector (per token for token-level pooling). */
  public int dim() {
    return dim;
  }

  @Override
  public synchronized void close() {
    ModelBackend session = backend;
    backend = null;
    if (session != null) {
      session.close();
    }
  }
}

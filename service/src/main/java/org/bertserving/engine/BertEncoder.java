package org.bertserving.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bertserving.engine.Featurizer.Featurized;
import org.bertserving.engine.tf.TfBertBackend;
import org.bertserving.engine.tokenizer.FullTokenizer;
import org.bertserving.engine.tokenizer.Vocab;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine: texts in, vectors out, as bert-as-service. Tokenizes, cuts the rows into length-sorted
 * runs within the batch and token budget, runs the model, puts the rows back in input order.
 * Thread-safe; one instance per device.
 */
public final class BertEncoder implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BertEncoder.class);

  private final EngineSettings settings;
  private final BertConfig config;
  private final Featurizer featurizer;
  private final ModelFiles files;
  private final BertConfig declared;
  private final FaultInjector faults = new FaultInjector();
  private final java.util.concurrent.atomic.AtomicLong runs = new java.util.concurrent.atomic.AtomicLong();
  private final int dim;
  private volatile ModelBackend backend;

  private BertEncoder(EngineSettings settings, BertConfig config, Featurizer featurizer,
      ModelBackend backend, ModelFiles files, BertConfig declared) {
    this.settings = settings;
    this.config = config;
    this.featurizer = featurizer;
    this.backend = backend;
    this.files = files;
    this.declared = declared;
    this.dim = backend.dim();
  }

  /** Loads the model the settings name (the default model when none) onto their device. */
  public static BertEncoder load(EngineSettings settings) throws IOException {
    long start = System.nanoTime();
    ModelFiles files = ModelFiles.locate(settings);
    BertConfig declared = files.config() != null ? BertConfig.read(files.config()) : null;
    Vocab vocab = Vocab.load(files.vocab());
    TfBertBackend backend = TfBertBackend.open(files.checkpoint(), declared, settings);
    BertConfig config = backend.config();
    if (vocab.size() > config.vocabSize()) {
      backend.close();
      throw new ModelLoadException("vocabulary " + files.vocab() + " has " + vocab.size()
          + " entries but the model only " + config.vocabSize() + " (wrong vocab.txt?)");
    }
    boolean lowerCase = settings.doLowerCase() != null ? settings.doLowerCase()
        : files.doLowerCase() != null ? files.doLowerCase() : true;
    Featurizer featurizer = new Featurizer(
        new FullTokenizer(vocab, lowerCase), vocab, settings, config.maxPositionEmbeddings());
    LOG.info("loaded {} ({} layers, hidden {}, {}) in {} ms", files.modelDir(),
        config.numHiddenLayers(), config.hiddenSize(), lowerCase ? "uncased" : "cased",
        (System.nanoTime() - start) / 1_000_000);
    return new BertEncoder(settings, config, featurizer, backend, files, declared);
  }

  /**
   * Closes the TensorFlow session and opens a new one from the same files: what a worker does
   * after a failed run, since a session that failed (out of memory, a bad kernel) is suspect.
   */
  public synchronized void restartSession() throws IOException {
    long start = System.nanoTime();
    ModelBackend old = backend;
    backend = null;
    if (old != null) {
      old.close();
    }
    backend = TfBertBackend.open(files.checkpoint(), declared, settings);
    LOG.info("new TensorFlow session for {} in {} ms", files.modelDir(),
        (System.nanoTime() - start) / 1_000_000);
  }

  /**
   * Warms the session up and measures it: {@code rows} texts of about {@code length} tokens,
   * run twice (the first run pays for graph optimisation); returns the real tokens per second of
   * the second run, the frontend's first estimate of this engine's speed.
   */
  public double calibrate(int rows, int length) {
    List<String> texts = new ArrayList<>();
    String word = "the"; // one token in every BERT vocabulary ([UNK] would do as well)
    StringBuilder text = new StringBuilder(word);
    for (int i = 2; i < Math.max(1, length - 2); i++) {
      text.append(' ').append(word);
    }
    for (int i = 0; i < rows; i++) {
      texts.add(text.toString());
    }
    Featurized f = featurizer.featurize(texts, false);
    run(f.rows());
    long start = System.nanoTime();
    run(f.rows());
    long nanos = Math.max(1, System.nanoTime() - start);
    long tokens = f.rows().stream().mapToLong(InputFeatures::length).sum();
    return tokens / (nanos / 1e9);
  }

  /** Faults to inject into this engine's runs (chaos tests). */
  public FaultInjector faults() {
    return faults;
  }

  /** Encodes texts (or token lists when {@code isTokenized}); all or nothing. */
  public EncodeResult encode(List<?> inputs, boolean isTokenized) {
    Featurized featurized = featurizer.featurize(inputs, isTokenized);
    List<float[]> rows = Arrays.asList(run(featurized.rows()));
    List<List<String>> tokens = featurized.rows().stream().map(InputFeatures::tokens).toList();
    return new EncodeResult(rows, dim, featurized.outputLength(),
        settings.poolingStrategy().isTokenLevel(), tokens);
  }

  /** Convenience for plain texts at the configured pooling: {@code [B, dim]}. */
  public float[][] encode(List<String> texts) {
    return encode(texts, false).matrix();
  }

  /**
   * Runs already featurized rows, possibly of several requests, in length-sorted runs; returns
   * one array per row in the given order.
   */
  public float[][] run(List<InputFeatures> rows) {
    float[][] out = new float[rows.size()][];
    for (int[] run : BatchPlanner.plan(rows, settings.maxBatchSize(), settings.tokenBudget())) {
      List<InputFeatures> batch = new ArrayList<>(run.length);
      for (int i : run) {
        batch.add(rows.get(i));
      }
      float[][] vectors = runOnce(batch);
      runs.incrementAndGet();
      for (int i = 0; i < run.length; i++) {
        out[run[i]] = vectors[i];
      }
    }
    return out;
  }

  private float[][] runOnce(List<InputFeatures> batch) {
    ModelBackend session = backend;
    if (session == null) {
      throw new EngineException("the TensorFlow session is being restarted");
    }
    faults.beforeRun(batch);
    try {
      return session.run(batch);
    } catch (EngineException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new EngineException("TensorFlow run of " + batch.size() + " rows failed: "
          + e.getMessage(), e);
    }
  }

  /** TensorFlow runs so far: shows how many rows each run carried. */
  public long runs() {
    return runs.get();
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

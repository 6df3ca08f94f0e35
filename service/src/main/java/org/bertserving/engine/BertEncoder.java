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
  private final ModelBackend backend;
  private final java.util.concurrent.atomic.AtomicLong runs = new java.util.concurrent.atomic.AtomicLong();

  private BertEncoder(EngineSettings settings, BertConfig config, Featurizer featurizer,
      ModelBackend backend) {
    this.settings = settings;
    this.config = config;
    this.featurizer = featurizer;
    this.backend = backend;
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
    return new BertEncoder(settings, config, featurizer, backend);
  }

  /** Encodes texts (or token lists when {@code isTokenized}); all or nothing. */
  public EncodeResult encode(List<?> inputs, boolean isTokenized) {
    Featurized featurized = featurizer.featurize(inputs, isTokenized);
    List<float[]> rows = Arrays.asList(run(featurized.rows()));
    List<List<String>> tokens = featurized.rows().stream().map(InputFeatures::tokens).toList();
    return new EncodeResult(rows, backend.dim(), featurized.outputLength(),
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
      float[][] vectors = backend.run(batch);
      runs.incrementAndGet();
      for (int i = 0; i < run.length; i++) {
        out[run[i]] = vectors[i];
      }
    }
    return out;
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
    return backend.dim();
  }

  @Override
  public void close() {
    backend.close();
  }
}

package org.bertserving.tools;

import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.InputFeatures;

/**
 * The cluster benchmark's requests, made before any is sent: blocks of {@link #ROWS} distinct
 * texts, each text's expected vector seed computed with the service's own tokenizer and featurizer
 * over the same folder and {@code max_seq_len} as the workers (so a row that comes back to the
 * wrong request or index is caught), the engine time of each block as one simulated run, and each
 * route's request bodies, already serialized.
 */
final class Corpus {
  static final int ROWS = 32;

  private final List<String> texts;
  private final float[][] vectors;
  private final long[] engineNanos;
  private final Map<BenchRoute, byte[][]> bodies = new EnumMap<>(BenchRoute.class);
  private final double meanTokens;

  private Corpus(
      List<String> texts,
      float[][] vectors,
      long[] engineNanos,
      double meanTokens,
      String modelName) {
    this.texts = texts;
    this.vectors = vectors;
    this.engineNanos = engineNanos;
    this.meanTokens = meanTokens;
    for (BenchRoute route : BenchRoute.values()) {
      byte[][] b = new byte[blocks()][];
      for (int i = 0; i < b.length; i++) {
        b[i] = route.body(i, block(i), modelName);
      }
      bodies.put(route, b);
    }
  }

  /**
   * {@code blocks} requests over the model folder {@code model}, as workers with {@code maxSeqLen}
   * and {@code timing} see them.
   */
  static Corpus build(
      Path model, int blocks, int maxSeqLen, int dim, SyntheticBackend.Timing timing)
      throws IOException {
    return build(model, blocks, maxSeqLen, dim, timing, null);
  }

  /**
   * The same, every request naming {@code modelName} ({@code /encode}'s {@code "model"}, OpenAI's
   * {@code model}); {@code null}: none, the cluster's default model.
   */
  static Corpus build(
      Path model,
      int blocks,
      int maxSeqLen,
      int dim,
      SyntheticBackend.Timing timing,
      String modelName)
      throws IOException {
    List<String> texts = SyntheticModel.texts(blocks * ROWS, 17);
    EngineSettings settings = EngineSettings.builder().modelDir(model).maxSeqLen(maxSeqLen).build();
    float[][] vectors = new float[texts.size()][];
    long[] engine = new long[blocks];
    long tokens = 0;
    try (BertEncoder encoder =
        BertEncoder.load(
            settings,
            (files, declared, s) ->
                new SyntheticBackend.Gpu(declared, SyntheticBackend.Timing.NONE))) {
      List<InputFeatures> rows = encoder.featurizer().featurize(texts, false).rows();
      for (int b = 0; b < blocks; b++) {
        int longest = 0;
        for (int i = b * ROWS; i < (b + 1) * ROWS; i++) {
          InputFeatures row = rows.get(i);
          vectors[i] = SyntheticBackend.vector(SyntheticBackend.seed(row.inputIds()), dim);
          longest = Math.max(longest, row.length());
          tokens += row.length();
        }
        engine[b] = timing.nanos(ROWS, longest);
      }
    }
    return new Corpus(texts, vectors, engine, tokens / (double) texts.size(), modelName);
  }

  int blocks() {
    return engineNanos.length;
  }

  List<String> block(int b) {
    return texts.subList(b * ROWS, (b + 1) * ROWS);
  }

  byte[] body(BenchRoute route, int b) {
    return bodies.get(route)[b];
  }

  /**
   * Whether {@code got} is the vector of row {@code i} of block {@code b}, to within an ulp a
   * component (the JSON reader rounds through a double), or that vector at unit length (OpenAI's
   * route answers it so), to within 1e-6 a component; any other row's differs everywhere.
   */
  boolean matches(int b, int i, float[] got) {
    float[] want = vectors[b * ROWS + i];
    if (got == null || got.length != want.length) {
      return false;
    }
    boolean raw = true;
    double squares = 0;
    for (int j = 0; j < want.length; j++) {
      raw &= Math.abs(got[j] - want[j]) <= Math.ulp(want[j]);
      squares += (double) want[j] * want[j];
    }
    if (raw) {
      return true;
    }
    double length = Math.sqrt(squares);
    for (int j = 0; j < want.length; j++) {
      if (Math.abs(got[j] - want[j] / length) > 1e-6) {
        return false;
      }
    }
    return true;
  }

  /** What the simulated card takes for block {@code b} as one run: its rows at their longest. */
  long engineNanos(int b) {
    return engineNanos[b];
  }

  /** Word pieces a row, [CLS] and [SEP] included, after truncation. */
  double meanTokens() {
    return meanTokens;
  }

  /** The mean engine time of a block as one run, in ms. */
  double meanEngineMillis() {
    long sum = 0;
    for (long n : engineNanos) {
      sum += n;
    }
    return sum / 1e6 / engineNanos.length;
  }
}

package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bertserving.engine.TinyBert.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's seam: tokenizer, batch planning, pooling options and output are the engine's; the
 * backend is whatever opener the engine is given. A plain-Java backend (the reference forward pass
 * of the tests, CLS pooling of the last layer) gives what TensorFlow's does, and opens again on a
 * session restart.
 */
class BackendSeamTest {

  /** The last layer's [CLS] vector, computed in plain Java. */
  static final class PlainJavaBackend implements ModelBackend {
    private final ReferenceBert reference;
    private final BertConfig config;
    private int shapes;

    PlainJavaBackend(BertConfig config, Map<String, Tensor> weights) {
      this.config = config;
      this.reference = new ReferenceBert(config, weights, "");
    }

    @Override
    public BertConfig config() {
      return config;
    }

    @Override
    public float[][] run(List<InputFeatures> rows) {
      float[][] out = new float[rows.size()][];
      for (int r = 0; r < out.length; r++) {
        List<double[][]> layers = reference.layers(rows.get(r));
        double[] cls = layers.get(layers.size() - 1)[0];
        out[r] = new float[cls.length];
        for (int d = 0; d < cls.length; d++) {
          out[r][d] = (float) cls[d];
        }
      }
      return out;
    }

    /** The shapes run, "batch x length", in order. */
    final List<String> ran = new java.util.ArrayList<>();

    @Override
    public float[][] run(List<InputFeatures> rows, int batch, int length) {
      shapes++;
      ran.add(batch + " x " + length);
      return run(rows);
    }

    @Override
    public int shapes() {
      return shapes;
    }

    @Override
    public int dim() {
      return config.hiddenSize();
    }

    @Override
    public void close() {}
  }

  /**
   * A worker's warm-up runs one text of every length up to max_seq_len once, so that no query pays
   * for its shape's first run; an engine whose max_seq_len passes {@link BertEncoder#WARM_LENGTHS}
   * warms that many.
   */
  @Test
  void warmUpRunsOneTextOfEachLengthOnce(@TempDir Path tmp) throws Exception {
    Path model = TinyBert.writeGoogleFolder(tmp.resolve("tiny"), TinyBert.CONFIG, 42, 0);
    Map<String, Tensor> weights = TinyBert.weights(TinyBert.CONFIG, 42, 0, "");
    PlainJavaBackend[] opened = new PlainJavaBackend[1];
    ModelBackend.Opener plainJava =
        (files, declared, s) -> opened[0] = new PlainJavaBackend(TinyBert.CONFIG, weights);
    try (BertEncoder engine = BertEncoder.load(lastCls(model, 12), plainJava)) {
      engine.warmUp();
      assertEquals(oneTextOfEachLength(12), opened[0].ran);
    }
    try (BertEncoder engine = BertEncoder.load(lastCls(model, null), plainJava)) {
      engine.warmUp();
      int positions = TinyBert.CONFIG.maxPositionEmbeddings();
      assertEquals(
          oneTextOfEachLength(Math.min(BertEncoder.WARM_LENGTHS, positions)), opened[0].ran);
    }
  }

  /** "1 x 1" to "1 x {@code longest}". */
  private static List<String> oneTextOfEachLength(int longest) {
    return java.util.stream.IntStream.rangeClosed(1, longest).mapToObj(n -> "1 x " + n).toList();
  }

  /** The tiny model at {@code model}, pooled as the plain-Java backend pools: the last [CLS]. */
  private static EngineSettings lastCls(Path model, Integer maxSeqLen) {
    return EngineSettings.builder()
        .modelDir(model)
        .maxSeqLen(maxSeqLen)
        .poolingStrategy(PoolingStrategy.FIRST_TOKEN)
        .poolingLayers(List.of(-1))
        .build();
  }

  @Test
  void anotherBackendSitsBesideTensorFlowsBehindTheSameEngine(@TempDir Path tmp) throws Exception {
    Path model = TinyBert.writeGoogleFolder(tmp.resolve("tiny"), TinyBert.CONFIG, 42, 0);
    Map<String, Tensor> weights = TinyBert.weights(TinyBert.CONFIG, 42, 0, "");
    EngineSettings settings = lastCls(model, 16);
    int[] opened = {0};
    ModelBackend.Opener plainJava =
        (files, declared, s) -> {
          opened[0]++;
          return new PlainJavaBackend(TinyBert.CONFIG, weights);
        };
    List<String> texts = List.of("hello world", "the dog sat on the mat.", "a");
    try (BertEncoder tensorflow = BertEncoder.load(settings);
        BertEncoder java = BertEncoder.load(settings, plainJava)) {
      float[][] expected = tensorflow.encode(texts);
      float[][] actual = java.encode(texts, false, new CallOptions(null, true, 8)).matrix();
      float[][] expectedOwn =
          tensorflow.encode(texts, false, new CallOptions(null, true, 8)).matrix();
      for (int i = 0; i < texts.size(); i++) {
        for (int d = 0; d < 8; d++) {
          assertEquals(expectedOwn[i][d], actual[i][d], 2e-4, "row " + i + " dim " + d);
        }
      }
      assertEquals(expected[0].length, java.encode(texts)[0].length);
      java.restartSession();
      assertEquals(2, opened[0], "a restart opens the backend again through the same opener");
      assertTrue(java.tfRuns() > 0);
    }
  }
}

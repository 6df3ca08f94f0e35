package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtException;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An ONNX model's weights, imported into the engine's graph, serve every pooling strategy and layer
 * choice. Its engines keep one TensorFlow session each ({@code sizedSessions(false)}): this is the
 * pooling's proof, loading ten of them; the sessions by run size are {@code SizedSessionsTest}'s
 * and {@code SplitLayersTest}'s, and the model as served is {@link ModernModelReferenceTest}'s.
 */
class OnnxPoolingTest {
  @BeforeAll
  static void offline() {
    System.setProperty("ai.djl.offline", "true"); // DJL must not reach for a hub
  }

  /**
   * Weights imported from ONNX serve every pooling strategy and layer, not only the model's own:
   * the last layer's token vectors equal ONNX Runtime's last hidden state, and the other strategies
   * of any layer agree with pooling the engine's own token vectors in plain Java.
   */
  @Test
  void everyPoolingStrategyAndLayerOfAnOnnxModel() throws IOException, OrtException {
    NamedModel model = NamedModel.ALL_MINILM_L6_V2;
    List<String> texts = ModernTexts.all().subList(0, 12);
    EngineSettings.Builder base =
        EngineSettings.builder()
            .model(model.modelName())
            .maxSeqLen(64)
            .normalize(false)
            .sizedSessions(false);
    try (ModernModelReferenceTest.Reference reference =
            new ModernModelReferenceTest.Reference(model.unpacked(), 64, PoolingStrategy.NONE);
        BertEncoder last = BertEncoder.load(base.poolingStrategy(PoolingStrategy.NONE).build())) {
      EncodedRows tokens = last.encode(texts, false);
      for (int i = 0; i < texts.size(); i++) {
        float[][] hidden = reference.hidden(reference.ids(texts.get(i)));
        float[] flat = new float[hidden.length * hidden[0].length];
        for (int t = 0; t < hidden.length; t++) {
          System.arraycopy(hidden[t], 0, flat, t * hidden[0].length, hidden[0].length);
        }
        double[] cmp = ModernModelReferenceTest.compare(flat, tokens.rows().get(i));
        assertTrue(
            cmp[0] > ModernModelReferenceTest.MIN_COSINE
                && cmp[1] < ModernModelReferenceTest.MAX_ABS,
            "last layer of text " + i + ": " + java.util.Arrays.toString(cmp));
      }
    }
    for (List<Integer> layers : List.of(List.of(0, -2))) {
      float[][] tokens;
      try (BertEncoder none =
          BertEncoder.load(
              base.poolingStrategy(PoolingStrategy.NONE).poolingLayers(layers).build())) {
        tokens = none.encode(texts, false).rows().toArray(new float[0][]);
      }
      for (PoolingStrategy strategy : TinyModelEngineTest.OTHER_POOLINGS) {
        try (BertEncoder encoder =
            BertEncoder.load(base.poolingStrategy(strategy).poolingLayers(layers).build())) {
          float[][] pooled = encoder.encode(texts);
          List<InputFeatures> rows = encoder.featurizer().featurize(texts, false).rows();
          int dim = 384 * layers.size();
          for (int r = 0; r < rows.size(); r++) {
            double[][] states = new double[rows.get(r).length()][dim];
            for (int t = 0; t < states.length; t++) {
              for (int d = 0; d < dim; d++) {
                states[t][d] = tokens[r][t * dim + d];
              }
            }
            TinyModelEngineTest.assertClose(
                TinyModelEngineTest.pool(strategy, states, rows.get(r).inputMask()),
                pooled[r],
                strategy + " " + layers + " row " + r);
          }
        }
      }
    }
    Throwable e =
        assertThrows(
            ModelLoadException.class,
            () -> BertEncoder.load(base.poolingStrategy(PoolingStrategy.CLS_POOLED).build()));
    assertTrue(e.getMessage().contains("has no tensor 'pooler.dense.weight'"), e.getMessage());
  }
}

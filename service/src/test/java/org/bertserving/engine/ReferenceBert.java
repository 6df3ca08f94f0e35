package org.bertserving.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bertserving.engine.TinyBert.Tensor;

/**
 * BERT's forward pass in plain Java (double precision), written from Google's {@code modeling.py}
 * independently of the TensorFlow graph, to check the engine on tiny models.
 */
final class ReferenceBert {
  private final BertConfig c;
  private final Map<String, Tensor> w;
  private final String prefix;

  ReferenceBert(BertConfig config, Map<String, Tensor> weights, String prefix) {
    this.c = config;
    this.w = weights;
    this.prefix = prefix;
  }

  /** Hidden states of every encoder layer, {@code [layer][T][H]}, for one unpadded row. */
  List<double[][]> layers(InputFeatures row) {
    int t = row.length();
    int h = c.hiddenSize();
    double[][] x = new double[t][h];
    for (int i = 0; i < t; i++) {
      for (int j = 0; j < h; j++) {
        x[i][j] =
            get("bert/embeddings/word_embeddings", row.inputIds()[i] * h + j)
                + get("bert/embeddings/token_type_embeddings", row.segmentIds()[i] * h + j)
                + get("bert/embeddings/position_embeddings", i * h + j);
      }
    }
    x = layerNorm("bert/embeddings/LayerNorm", x);
    List<double[][]> out = new ArrayList<>();
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      x = layer("bert/encoder/layer_" + l, x, row.inputMask());
      out.add(x);
    }
    return out;
  }

  /** The pooler's {@code tanh(dense(first token of the last layer))}. */
  double[] pooled(InputFeatures row) {
    List<double[][]> layers = layers(row);
    double[][] first = {layers.get(layers.size() - 1)[0]};
    double[] d = dense("bert/pooler/dense", first)[0];
    for (int j = 0; j < d.length; j++) {
      d[j] = Math.tanh(d[j]);
    }
    return d;
  }

  private double[][] layer(String scope, double[][] x, int[] mask) {
    int t = x.length;
    int heads = c.numAttentionHeads();
    int size = c.headSize();
    double[][] q = dense(scope + "/attention/self/query", x);
    double[][] k = dense(scope + "/attention/self/key", x);
    double[][] v = dense(scope + "/attention/self/value", x);
    double[][] context = new double[t][c.hiddenSize()];
    for (int head = 0; head < heads; head++) {
      int o = head * size;
      for (int i = 0; i < t; i++) {
        double[] scores = new double[t];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < t; j++) {
          double dot = 0;
          for (int d = 0; d < size; d++) {
            dot += q[i][o + d] * k[j][o + d];
          }
          scores[j] = dot / Math.sqrt(size) + (1 - mask[j]) * -10000.0;
          max = Math.max(max, scores[j]);
        }
        double sum = 0;
        for (int j = 0; j < t; j++) {
          scores[j] = Math.exp(scores[j] - max);
          sum += scores[j];
        }
        for (int j = 0; j < t; j++) {
          for (int d = 0; d < size; d++) {
            context[i][o + d] += scores[j] / sum * v[j][o + d];
          }
        }
      }
    }
    double[][] attention =
        layerNorm(
            scope + "/attention/output/LayerNorm",
            add(dense(scope + "/attention/output/dense", context), x));
    double[][] inner = dense(scope + "/intermediate/dense", attention);
    for (double[] r : inner) {
      for (int j = 0; j < r.length; j++) {
        double a = r[j];
        r[j] =
            c.hiddenAct().equals("gelu_exact")
                ? 0.5 * a * (1 + erf(a / Math.sqrt(2)))
                : 0.5 * a * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (a + 0.044715 * a * a * a)));
      }
    }
    return layerNorm(
        scope + "/output/LayerNorm", add(dense(scope + "/output/dense", inner), attention));
  }

  /** Abramowitz and Stegun 7.1.26: within 1.5e-7 of erf, far inside the tests' tolerance. */
  static double erf(double x) {
    double t = 1 / (1 + 0.3275911 * Math.abs(x));
    double y =
        1
            - t
                * (0.254829592
                    + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
                * Math.exp(-x * x);
    return x < 0 ? -y : y;
  }

  private double[][] dense(String scope, double[][] x) {
    Tensor kernel = w.get(key(scope + "/kernel"));
    int in = (int) kernel.shape()[0];
    int out = (int) kernel.shape()[1];
    double[][] y = new double[x.length][out];
    for (int i = 0; i < x.length; i++) {
      for (int o = 0; o < out; o++) {
        double s = get(scope + "/bias", o);
        for (int j = 0; j < in; j++) {
          s += x[i][j] * kernel.values()[j * out + o];
        }
        y[i][o] = s;
      }
    }
    return y;
  }

  private double[][] layerNorm(String scope, double[][] x) {
    double[][] y = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      double mean = 0;
      for (double a : x[i]) {
        mean += a;
      }
      mean /= x[i].length;
      double var = 0;
      for (double a : x[i]) {
        var += (a - mean) * (a - mean);
      }
      var /= x[i].length;
      y[i] = new double[x[i].length];
      for (int j = 0; j < x[i].length; j++) {
        y[i][j] =
            (x[i][j] - mean) / Math.sqrt(var + c.layerNormEps()) * get(scope + "/gamma", j)
                + get(scope + "/beta", j);
      }
    }
    return y;
  }

  private static double[][] add(double[][] a, double[][] b) {
    double[][] y = new double[a.length][a[0].length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) {
        y[i][j] = a[i][j] + b[i][j];
      }
    }
    return y;
  }

  private double get(String name, int index) {
    return w.get(key(name)).values()[index];
  }

  private String key(String name) {
    return prefix + name;
  }

  /** {@code CLS_POOLED} of the model in {@code dir}, row by row, is this reference's pooler. */
  void assertClsPooled(java.nio.file.Path dir, List<String> texts, String what)
      throws java.io.IOException {
    try (BertEncoder encoder =
        BertEncoder.load(
            EngineSettings.builder()
                .modelDir(dir)
                .maxSeqLen(16)
                .poolingStrategy(PoolingStrategy.CLS_POOLED)
                .build())) {
      List<InputFeatures> rows = encoder.featurizer().featurize(texts, false).rows();
      float[][] vectors = encoder.encode(texts);
      for (int r = 0; r < rows.size(); r++) {
        TinyModelEngineTest.assertClose(pooled(rows.get(r)), vectors[r], what + " row " + r);
      }
    }
  }
}

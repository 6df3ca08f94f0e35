package org.bertserving.engine;

/**
 * A sequence classifier's logits as its users read them, applied where an API asks (the engine and
 * the cluster carry raw logits): the sigmoid of a single label (a cross-encoder's relevance, as
 * sentence-transformers' {@code CrossEncoder} and text-embeddings-inference give it), the softmax
 * over several.
 */
public final class Scores {
  private Scores() {}

  /** Probabilities of one row's logits, or the logits themselves when {@code raw}. */
  public static float[] of(float[] logits, boolean raw) {
    if (raw) {
      return logits.clone();
    }
    return logits.length == 1 ? new float[] {sigmoid(logits[0])} : softmax(logits);
  }

  public static float sigmoid(float x) {
    return (float) (1 / (1 + Math.exp(-(double) x)));
  }

  /** Shifted by the largest logit, so that no exponent overflows. */
  public static float[] softmax(float[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : logits) {
      max = Math.max(max, v);
    }
    double[] e = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      e[i] = Math.exp(logits[i] - max);
      sum += e[i];
    }
    float[] out = new float[logits.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (e[i] / sum);
    }
    return out;
  }
}

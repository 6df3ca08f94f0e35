package org.bertserving.engine;

/**
 * The last step of encoding, in plain Java: Matryoshka truncation and L2 normalization, per pooled
 * vector (per token vector for token-level output). Outside the TensorFlow graph so that requests
 * with different options can share one run.
 */
final class VectorOutput {
  /** sentence-transformers' (torch's {@code F.normalize}) floor under the norm. */
  private static final double MIN_NORM = 1e-12;

  private VectorOutput() {}

  /**
   * @param row one pooled vector, or a row's token vectors back to back; normalized in place when
   *     all its components are kept (the row is the caller's to give: no copy on the way out)
   * @param width the model's vector width
   * @param keep the components to keep of each vector
   */
  static float[] apply(float[] row, int width, int keep, boolean normalize) {
    if (keep == width && !normalize) {
      return row;
    }
    int vectors = row.length / width;
    float[] out = keep == width ? row : new float[vectors * keep];
    for (int v = 0; v < vectors; v++) {
      if (keep != width) {
        System.arraycopy(row, v * width, out, v * keep, keep);
      }
      if (normalize) {
        normalize(out, v * keep, keep);
      }
    }
    return out;
  }

  private static void normalize(float[] x, int from, int length) {
    double sum = 0;
    for (int i = from; i < from + length; i++) {
      sum += (double) x[i] * x[i];
    }
    double scale = 1 / Math.max(Math.sqrt(sum), MIN_NORM);
    for (int i = from; i < from + length; i++) {
      x[i] = (float) (x[i] * scale);
    }
  }
}

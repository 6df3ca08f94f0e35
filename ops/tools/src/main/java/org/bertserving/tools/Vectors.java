package org.bertserving.tools;

import java.util.Locale;

/** Whether a vector is the one expected, up to the float rounding of a different batch. */
final class Vectors {
  /**
   * A row computed in another batch (other padding, other kernels' order) differs by about 1e-6.
   */
  static final double MAX_ABS = 1e-3;

  static final double MIN_COSINE = 0.99999;

  private Vectors() {}

  /** Cosine similarity, summed in double. */
  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double aa = 0;
    double bb = 0;
    for (int d = 0; d < a.length; d++) {
      dot += a[d] * (double) b[d];
      aa += a[d] * (double) a[d];
      bb += b[d] * (double) b[d];
    }
    return dot / Math.sqrt(aa * bb);
  }

  /** The lowest cosine of two lists' rows, pairwise. */
  static double minCosine(float[][] a, float[][] b) {
    double min = 1;
    for (int r = 0; r < a.length; r++) {
      min = Math.min(min, cosine(a[r], b[r]));
    }
    return min;
  }

  /** How {@code actual} differs from {@code expected}, or {@code null} when it does not. */
  static String difference(float[] expected, float[] actual) {
    if (expected == null) {
      return "no expected vector";
    }
    if (actual == null || actual.length != expected.length) {
      return "width " + (actual == null ? 0 : actual.length) + " instead of " + expected.length;
    }
    double worst = 0;
    for (int d = 0; d < expected.length; d++) {
      worst = Math.max(worst, Math.abs(expected[d] - actual[d]));
    }
    double cosine = cosine(expected, actual);
    if (worst > MAX_ABS || cosine < MIN_COSINE) {
      return String.format(Locale.ROOT, "cosine %.6f, max difference %.2e", cosine, worst);
    }
    return null;
  }
}

package org.bertserving.engine;

/** The tests' one measure of how close two vectors are, and a vector at unit length. */
public final class Vectors {
  private Vectors() {}

  /** Cosine similarity, summed in double. */
  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new AssertionError(a.length + " against " + b.length + " dimensions");
    }
    double dot = 0;
    double aa = 0;
    double bb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * (double) b[i];
      aa += a[i] * (double) a[i];
      bb += b[i] * (double) b[i];
    }
    return dot / Math.sqrt(aa * bb);
  }

  /**
   * {@code v} at unit length, computed in double: what OpenAI's route answers whatever the server's
   * {@code -normalize}.
   */
  public static float[] unit(float[] v) {
    double squares = 0;
    for (float x : v) {
      squares += (double) x * x;
    }
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) (v[i] / Math.sqrt(squares));
    }
    return out;
  }

  /** The largest difference of two components at the same index. */
  public static double maxAbsDifference(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new AssertionError(a.length + " against " + b.length + " dimensions");
    }
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }
}

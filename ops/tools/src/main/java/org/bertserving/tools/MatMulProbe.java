package org.bertserving.tools;

import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The machine's float32 matmul rate through TensorFlow, on the shape that dominates BERT-Base at
 * batch 32 x 40 tokens (1280 x 768 times 768 x 3072): the yardstick of the engine's efficiency.
 */
public final class MatMulProbe {
  private MatMulProbe() {}

  /** GFLOP/s measured for about {@code seconds}. */
  public static double gflops(double seconds) {
    int m = 1280;
    int k = 768;
    int n = 3072;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      // variables, so that constant folding cannot precompute the product
      var a =
          tf.variable(
              tf.random.randomStandardNormal(tf.constant(new int[] {m, k}), TFloat32.class));
      var b =
          tf.variable(
              tf.random.randomStandardNormal(tf.constant(new int[] {k, n}), TFloat32.class));
      Operand<TFloat32> product = tf.linalg.matMul(a, b);
      Operand<TFloat32> sum = tf.sum(product, tf.constant(new int[] {0, 1}));
      try (Session s = new Session(g)) {
        s.initialize();
        s.runner().fetch(sum).run().close();
        long runs = 0;
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
          s.runner().fetch(sum).run().close();
          runs++;
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        return runs * 2.0 * m * k * n / elapsed / 1e9;
      }
    }
  }
}

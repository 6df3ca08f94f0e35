package org.bertserving.engine;

import java.util.Locale;

/**
 * Which of oneDNN's kernels runs the encoder's products (a layer's query/key/value, output and
 * feed-forward projections) on the CPU ({@code bert-serving.engine.products}).
 */
public enum ProductKernel {
  /** The faster of the two on this machine, timed once per process at load. */
  MEASURED,
  /**
   * Product, bias and activation in one op, which TensorFlow hands to oneDNN's inner product: as
   * TensorFlow's own graphs run. On the GPU and under XLA this is always the kernel.
   */
  FUSED,
  /**
   * The product alone, as oneDNN's matrix multiply ({@code sgemm} in float32), the bias and the
   * activation as ops after it.
   */
  PLAIN;

  /** A config value, {@code measured}, {@code fused} or {@code plain}. */
  public static ProductKernel parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + value + "' is not one of measured, fused, plain", e);
    }
  }
}

package org.bertserving.engine.tf;

import org.tensorflow.proto.DataType;

/**
 * oneDNN's two kernels for one product, timed on this machine as a worker's start times them
 * ({@link ProductProbe}), for any shape and either type. Public for the MiniLM benchmark alone
 * (ops/tools {@code KernelsTable}), whose table of what each kernel achieves here shows why {@code
 * -bf16} does or does not pay on a CPU; the engine itself asks {@link ProductProbe}.
 */
public final class ProductTimes {
  private ProductTimes() {}

  /** Microseconds a run of the fused inner product and of the plain matrix multiply. */
  public record Kernels(double fusedMicros, double plainMicros) {}

  /**
   * {@code rows x in} times {@code in x out} plus a bias, on a session of {@code threads} intra-op
   * threads, in bfloat16 or float32, as {@link ProductProbe#time} times it: the kernels in turns,
   * the best round of each.
   */
  public static Kernels time(boolean bf16, int rows, int in, int out, int threads) {
    ProductProbe.Timing t =
        ProductProbe.time(
            new ProductProbe.Key(
                bf16 ? DataType.DT_BFLOAT16 : DataType.DT_FLOAT, in, out, threads, rows));
    return new Kernels(t.fusedMicros(), t.plainMicros());
  }
}

package org.bertserving.engine.hf;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One tensor of a model file, not yet copied: its little-endian bytes in a (usually memory-mapped)
 * buffer.
 *
 * @param name the name under which the file stores it
 * @param dtype safetensors' names: {@code F32}, {@code F16}, {@code BF16}, {@code I64}, ...
 * @param kernelLayout a dense layer's weight already as {@code [in, out]} (an ONNX MatMul operand),
 *     where PyTorch stores {@code [out, in]}
 */
public record StoredTensor(
    String name, String dtype, long[] shape, ByteBuffer data, boolean kernelLayout) {

  /** Bytes per element of the floating-point types the engine reads, 0 for the others. */
  public static int floatWidth(String dtype) {
    switch (dtype) {
      case "F32":
        return 4;
      case "F16":
      case "BF16":
        return 2;
      default:
        return 0;
    }
  }

  public long elements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  @Override
  public String toString() {
    return name + " " + dtype + Arrays.toString(shape);
  }
}

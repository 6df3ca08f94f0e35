package org.bertserving.zmq;

/**
 * IEEE 754 binary16 from float32, rounding to nearest with ties to even, as IEEE and numpy's {@code
 * astype(np.float16)} do (Java 17 has no {@code Float.floatToFloat16}).
 */
final class Half {
  private Half() {}

  static short fromFloat(float f) {
    int bits = Float.floatToIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int magnitude = bits & 0x7fffffff;
    if (magnitude >= 0x7f800000) { // infinity or NaN
      return (short) (sign | 0x7c00 | (magnitude > 0x7f800000 ? 0x0200 : 0));
    }
    // 13 bits are dropped: add just under half of them, plus one when the kept part is odd
    int rounded = magnitude + 0xfff + ((magnitude >>> 13) & 1);
    if (rounded >= 0x47800000) { // above the largest half: infinity
      return (short) (sign | 0x7c00);
    }
    if (rounded >= 0x38800000) { // a normal half
      return (short) (sign | ((rounded - 0x38000000) >>> 13));
    }
    if (magnitude <= 0x33000000) { // at most half the smallest subnormal: zero (a tie goes to 0)
      return (short) sign;
    }
    int exponent = magnitude >>> 23;
    int mantissa = (magnitude & 0x7fffff) | 0x800000;
    int shift = 126 - exponent; // bits of the 24-bit mantissa that a subnormal half drops
    int bias = (1 << (shift - 1)) - 1 + ((mantissa >>> shift) & 1);
    return (short) (sign | ((mantissa + bias) >>> shift));
  }
}

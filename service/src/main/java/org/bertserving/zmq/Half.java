package org.bertserving.zmq;

/** IEEE 754 binary16 from float32, rounding to nearest (Java 17 has no Float.floatToFloat16). */
final class Half {
  private Half() {}

  static short fromFloat(float f) {
    int bits = Float.floatToIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int magnitude = bits & 0x7fffffff;
    if (magnitude >= 0x7f800000) { // infinity or NaN
      return (short) (sign | 0x7c00 | (magnitude > 0x7f800000 ? 0x0200 : 0));
    }
    int rounded = magnitude + 0x1000; // half of the 13 bits that are dropped
    if (rounded >= 0x47800000) { // above the largest half: infinity
      return (short) (sign | 0x7c00);
    }
    if (rounded >= 0x38800000) { // a normal half
      return (short) (sign | ((rounded - 0x38000000) >>> 13));
    }
    if (magnitude < 0x33000000) { // below half the smallest subnormal: zero
      return (short) sign;
    }
    int exponent = magnitude >>> 23;
    int mantissa = (magnitude & 0x7fffff) | 0x800000;
    return (short) (sign | ((mantissa + (0x800000 >>> (exponent - 102))) >>> (126 - exponent)));
  }
}

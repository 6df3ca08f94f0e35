package org.bertserving.zmq;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** float32 to float16 bit patterns, as numpy's {@code astype(np.float16)} gives them. */
class HalfTest {
  @Test
  void knownValues() {
    assertEquals(0x3c00, Half.fromFloat(1f) & 0xffff);
    assertEquals(0xc000, Half.fromFloat(-2f) & 0xffff);
    assertEquals(0x3800, Half.fromFloat(0.5f) & 0xffff);
    assertEquals(0x2e66, Half.fromFloat(0.1f) & 0xffff);
    assertEquals(0x7bff, Half.fromFloat(65504f) & 0xffff);
    assertEquals(0x7c00, Half.fromFloat(1e6f) & 0xffff);
    assertEquals(0x0001, Half.fromFloat(6e-8f) & 0xffff, "smallest subnormal");
    assertEquals(0x0000, Half.fromFloat(1e-9f) & 0xffff);
    assertEquals(0x8000, Half.fromFloat(-0f) & 0xffff);
    assertEquals(0x3555, Half.fromFloat(1f / 3) & 0xffff);
  }

  @Test
  void tiesGoToEvenAsIeeeAndNumpyRoundThem() {
    // exactly between 1 (0x3c00, even) and 1 + 2^-10 (0x3c01): down to the even one
    assertEquals(0x3c00, Half.fromFloat(1f + 0x1p-11f) & 0xffff);
    // exactly between 0x3c01 (odd) and 0x3c02 (even): up to the even one
    assertEquals(0x3c02, Half.fromFloat(1f + 3 * 0x1p-11f) & 0xffff);
    // just above a tie: up
    assertEquals(0x3c01, Half.fromFloat(Math.nextUp(1f + 0x1p-11f)) & 0xffff);
    // subnormal ties: 0.5 x the smallest to 0, 1.5 x to 2, 2.5 x to 2
    assertEquals(0x0000, Half.fromFloat(0x1p-25f) & 0xffff);
    assertEquals(0x0002, Half.fromFloat(3 * 0x1p-25f) & 0xffff);
    assertEquals(0x0002, Half.fromFloat(5 * 0x1p-25f) & 0xffff);
    assertEquals(0x0001, Half.fromFloat(Math.nextUp(0x1p-25f)) & 0xffff);
    // the largest half and the first value that rounds past it
    assertEquals(0x7bff, Half.fromFloat(65519f) & 0xffff);
    assertEquals(0x7c00, Half.fromFloat(65520f) & 0xffff);
  }
}

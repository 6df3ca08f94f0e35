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
}

package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The shapes a worker pads to under {@code -xla}: few enough that XLA never stops compiling. */
class XlaShapesTest {

  @Test
  void lengthsAndBatchesFallIntoAtMostEightShapes() {
    XlaShapes defaults = new XlaShapes(25, 256, 16384);
    assertEquals(List.of(8, 16, 25), defaults.lengths());
    assertEquals(16, defaults.length(9));
    assertEquals(25, defaults.length(25));
    XlaShapes none = new XlaShapes(512, 256, 16384);
    assertEquals(List.of(64, 128, 256, 512), none.lengths());
    assertEquals(32, none.large(512), "the token budget bounds the large batch");
    assertEquals(256, none.large(64));
    for (XlaShapes shapes :
        List.of(defaults, none, new XlaShapes(128, 32, 4096), new XlaShapes(3, 1, 10))) {
      assertTrue(shapes.all().size() <= 8, "at most 8 shapes (XLA stops compiling past 10)");
      for (int rows = 1; rows <= 600; rows += 7) {
        for (int length : shapes.lengths()) {
          List<Integer> batches = shapes.batches(rows, length);
          assertTrue(batches.stream().mapToInt(Integer::intValue).sum() >= rows, "every row runs");
          for (int batch : batches) {
            assertTrue(
                shapes.all().stream().anyMatch(s -> s[0] == batch && s[1] == length),
                batch + " x " + length + " is a warmed shape");
          }
        }
      }
    }
    assertEquals(List.of(8), defaults.batches(1, 16), "a single query pads to the small batch");
    assertEquals(List.of(256, 8, 8), defaults.batches(270, 16), "the rest in small batches");
    assertEquals(List.of(256, 256), defaults.batches(400, 16), "or one more large one");
  }
}

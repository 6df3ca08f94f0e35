package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bertserving.engine.ProductKernel;
import org.junit.jupiter.api.Test;

/** The MiniLM benchmark's options: defaults, either order, and a clear refusal. */
class MiniLmArgsTest {
  @Test
  void defaultsAreFiveSecondsAndTheConfiguredKernel() {
    MiniLmArgs none = MiniLmArgs.parse(new String[0]);
    assertEquals(5, none.seconds());
    assertEquals(ProductKernel.MEASURED, none.products());
    assertEquals("-Dbert-serving.engine.products=measured", none.nodeProperty());
  }

  @Test
  void optionsInEitherOrderReachTheEngineAndTheNode() {
    MiniLmArgs a = MiniLmArgs.parse(new String[] {"--products", "fused", "--seconds", "2"});
    MiniLmArgs b = MiniLmArgs.parse(new String[] {"--seconds", "2", "--products", "FUSED"});
    assertEquals(a, b);
    assertEquals(2, a.seconds());
    assertEquals(ProductKernel.FUSED, a.products());
    assertEquals("-Dbert-serving.engine.products=fused", a.nodeProperty());
  }

  @Test
  void aWrongOptionOrKernelIsRefusedNamingIt() {
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class,
            () -> MiniLmArgs.parse(new String[] {"--kernel", "plain"}));
    assertTrue(unknown.getMessage().contains("--kernel"), unknown.getMessage());
    IllegalArgumentException kernel =
        assertThrows(
            IllegalArgumentException.class,
            () -> MiniLmArgs.parse(new String[] {"--products", "fast"}));
    assertTrue(kernel.getMessage().contains("'fast'"), kernel.getMessage());
    for (String seconds : new String[] {"abc", "0", "-1", "NaN", "Infinity", "1e10"}) {
      IllegalArgumentException bad =
          assertThrows(
              IllegalArgumentException.class,
              () -> MiniLmArgs.parse(new String[] {"--seconds", seconds}));
      assertTrue(bad.getMessage().startsWith("--seconds "), bad.getMessage());
      assertTrue(bad.getMessage().contains(seconds), bad.getMessage());
    }
    IllegalArgumentException missing =
        assertThrows(
            IllegalArgumentException.class, () -> MiniLmArgs.parse(new String[] {"--seconds"}));
    assertTrue(missing.getMessage().contains("--seconds"), missing.getMessage());
  }
}

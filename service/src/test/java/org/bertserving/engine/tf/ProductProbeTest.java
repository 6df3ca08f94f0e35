package org.bertserving.engine.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bertserving.engine.BertConfig;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.ProductKernel;
import org.bertserving.engine.TinyBert;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/**
 * The kernel of the encoder's products: as the settings say, or timed on this machine's real
 * TensorFlow, once per process and shape, the faster kept; never the plain one on the GPU or under
 * XLA.
 */
class ProductProbeTest {
  private static final BertConfig CONFIG = TinyBert.CONFIG;

  private static EngineSettings settings(ProductKernel products) {
    return EngineSettings.builder()
        .modelDir(TestNodes.tinyModel())
        .products(products)
        .intraOpThreads(1)
        .build();
  }

  @Test
  void measuredProductsKeepTheKernelThatRanFaster() {
    EngineSettings measured = settings(ProductKernel.MEASURED);
    boolean fused = ProductProbe.fused(measured, CONFIG);
    ProductProbe.Key key = ProductProbe.key(measured, CONFIG);
    assertEquals(
        new ProductProbe.Key(
            org.tensorflow.proto.DataType.DT_FLOAT,
            CONFIG.hiddenSize(),
            CONFIG.intermediateSize(),
            1,
            16),
        key);
    ProductProbe.Timing timing = ProductProbe.measured(key);
    assertTrue(timing.fusedMicros() > 0 && timing.plainMicros() > 0, timing.toString());
    assertEquals(timing.plainMicros() >= timing.fusedMicros(), fused, timing.toString());
    // timed once a process: a second session of the shape takes the first one's answer
    assertSame(timing, ProductProbe.measured(key));
    assertEquals(fused, ProductProbe.fused(measured, CONFIG));
  }

  @Test
  void bothKernelsRunInBfloat16() {
    ProductProbe.Timing timing =
        ProductProbe.time(
            new ProductProbe.Key(org.tensorflow.proto.DataType.DT_BFLOAT16, 64, 256, 1, 8));
    assertTrue(timing.fusedMicros() > 0 && timing.plainMicros() > 0, timing.toString());
  }

  @Test
  void theSettingsChooseWhereTheyName() {
    assertTrue(ProductProbe.fused(settings(ProductKernel.FUSED), CONFIG));
    assertFalse(ProductProbe.fused(settings(ProductKernel.PLAIN), CONFIG));
    // the GPU and XLA run fused products whatever is asked
    EngineSettings plain = settings(ProductKernel.PLAIN);
    assertTrue(ProductProbe.fused(plain.toBuilder().deviceId(0).build(), CONFIG));
    assertTrue(ProductProbe.fused(plain.toBuilder().xla(true).build(), CONFIG));
  }

  @Test
  void aTimingWithoutThePlainKernelKeepsTheFusedOne() {
    assertTrue(new ProductProbe.Timing(Double.NaN, Double.NaN).fusedFaster());
    assertFalse(new ProductProbe.Timing(300, 100).fusedFaster());
    assertTrue(new ProductProbe.Timing(100, 300).fusedFaster());
  }
}

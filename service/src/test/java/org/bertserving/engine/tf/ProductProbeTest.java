package org.bertserving.engine.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.bertserving.engine.BertConfig;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.ModelFiles;
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

  /**
   * Measured products: timed once a process for the shape, and the graph a session builds is the
   * kernel the timing chose (weight products as {@code BatchMatMulV3} where plain, {@code MatMul}
   * where fused).
   */
  @Test
  void measuredProductsBuildTheKernelTheirTimingChose() throws Exception {
    assumeTrue(TfBertBackend.oneDnnOps(), "TensorFlow's oneDNN ops off: always fused");
    EngineSettings measured = settings(ProductKernel.MEASURED);
    ProductProbe.Key key = ProductProbe.key(measured, CONFIG);
    assertEquals(
        new ProductProbe.Key(
            org.tensorflow.proto.DataType.DT_FLOAT,
            CONFIG.hiddenSize(),
            CONFIG.intermediateSize(),
            1,
            16),
        key);
    boolean fused = ProductProbe.fused(measured, CONFIG);
    ProductProbe.Timing timing = ProductProbe.measured(key);
    assertTrue(timing.fusedMicros() > 0 && timing.plainMicros() > 0, timing.toString());
    assertEquals(timing.keepsFused(), fused, timing.toString());
    // timed once a process: a second session of the shape takes the first one's answer
    assertSame(timing, ProductProbe.measured(key));
    ModelFiles files = ModelFiles.locate(measured);
    EngineSettings everyLayer =
        measured.toBuilder()
            .poolingStrategy(org.bertserving.engine.PoolingStrategy.CLS_POOLED)
            .build();
    try (TfBertBackend session =
        TfBertBackend.open(files, BertConfig.read(files.config()), everyLayer)) {
      int plain = 0;
      int matMuls = 0;
      for (var it = session.graph().operations(); it.hasNext(); ) {
        var op = it.next();
        if (!op.name().startsWith("bert/encoder/layer_")) {
          continue;
        }
        boolean ofWeights = false;
        for (int i = 0; i < op.numInputs(); i++) {
          ofWeights |= op.input(i).op().type().startsWith("Variable");
        }
        plain += op.type().equals("BatchMatMulV3") && ofWeights ? 1 : 0;
        matMuls += op.type().equals("MatMul") ? 1 : 0;
      }
      int products = CONFIG.numHiddenLayers() * 4;
      assertEquals(fused ? 0 : products, plain, timing.toString());
      assertEquals(fused ? products : 0, matMuls, timing.toString());
    }
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
    assumeTrue(TfBertBackend.oneDnnOps(), "TensorFlow's oneDNN ops off: always fused");
    assertTrue(ProductProbe.fused(settings(ProductKernel.FUSED), CONFIG));
    assertFalse(ProductProbe.fused(settings(ProductKernel.PLAIN), CONFIG));
    // the GPU and XLA run fused products whatever is asked
    EngineSettings plain = settings(ProductKernel.PLAIN);
    assertTrue(ProductProbe.fused(plain.toBuilder().deviceId(0).build(), CONFIG));
    assertTrue(ProductProbe.fused(plain.toBuilder().xla(true).build(), CONFIG));
    // and so does float16, whose plain product the CPU lacks
    assertTrue(ProductProbe.fused(plain.toBuilder().fp16(true).build(), CONFIG));
  }

  /**
   * A start with {@code -bf16} times float32's products too, and warns where bfloat16 ran them no
   * faster; where it ran faster, or could not be timed, it says nothing.
   */
  @Test
  void bfloat16IsComparedWithFloat32AndAWarningNamesBothTimes() {
    assumeTrue(TfBertBackend.oneDnnOps(), "TensorFlow's oneDNN ops off: always fused");
    // three threads: a shape no other test of this JVM times
    EngineSettings bf16 =
        settings(ProductKernel.MEASURED).toBuilder().bf16(true).intraOpThreads(3).build();
    ProductProbe.Key key = ProductProbe.key(bf16, CONFIG);
    ProductProbe.Key float32 =
        new ProductProbe.Key(
            org.tensorflow.proto.DataType.DT_FLOAT, key.in(), key.out(), key.threads(), key.rows());
    assertFalse(ProductProbe.timed(float32), "not timed before");
    ProductProbe.fused(bf16, CONFIG);
    assertTrue(ProductProbe.timed(key), "bfloat16 timed");
    assertTrue(ProductProbe.timed(float32), "float32 timed by the bfloat16 start");

    String slower =
        ProductProbe.bfloat16Advice(
            key, new ProductProbe.Timing(1070, 1300), new ProductProbe.Timing(1800, 809));
    assertTrue(slower.startsWith("-bf16 gives no speed on this CPU"), slower);
    assertTrue(slower.contains("1070 µs in bfloat16 against 809 µs in float32"), slower);
    assertEquals(
        null,
        ProductProbe.bfloat16Advice(
            key, new ProductProbe.Timing(400, 500), new ProductProbe.Timing(900, 809)));
    assertEquals(
        null,
        ProductProbe.bfloat16Advice(
            key,
            new ProductProbe.Timing(Double.NaN, Double.NaN),
            new ProductProbe.Timing(900, 809)));
  }

  /** Plain only where it ran 10 % faster, or where it could be timed at all. */
  @Test
  void thePlainKernelIsKeptOnlyWhereItRanClearlyFaster() {
    assertTrue(new ProductProbe.Timing(Double.NaN, Double.NaN).keepsFused());
    assertFalse(new ProductProbe.Timing(300, 100).keepsFused());
    assertFalse(new ProductProbe.Timing(300, 270).keepsFused());
    assertTrue(new ProductProbe.Timing(300, 280).keepsFused()); // within 10 %: fused stays
    assertTrue(new ProductProbe.Timing(100, 300).keepsFused());
  }
}

package org.bertserving.engine.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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

  /** A start with {@code -bf16} whose products are measured times float32's of the same shape. */
  @Test
  void aBfloat16StartTimesFloat32sProductToo() {
    assumeTrue(TfBertBackend.oneDnnOps(), "TensorFlow's oneDNN ops off: always fused");
    // a shape no other test of this JVM times
    BertConfig odd = new BertConfig(TinyBert.VOCAB.size(), 24, 2, 4, 40, "gelu", 64, 2, 1e-12);
    EngineSettings bf16 = settings(ProductKernel.MEASURED).toBuilder().bf16(true).build();
    ProductProbe.Key key = ProductProbe.key(bf16, odd);
    ProductProbe.Key float32 =
        new ProductProbe.Key(
            org.tensorflow.proto.DataType.DT_FLOAT, key.in(), key.out(), key.threads(), key.rows());
    assertFalse(ProductProbe.timed(float32), "not timed before");
    ProductProbe.fused(bf16, odd);
    assertTrue(ProductProbe.timed(key), "bfloat16 timed");
    assertTrue(ProductProbe.timed(float32), "float32 timed by the bfloat16 start");
  }

  /**
   * The warning names both times where bfloat16 ran less than 10 % faster than float32 (each on its
   * kept kernel), once per shape; nothing where it ran clearly faster or could not be timed.
   */
  @Test
  void aWarningWhereBfloat16RanNoClearlyFasterOncePerShape() {
    ProductProbe.Key key =
        new ProductProbe.Key(org.tensorflow.proto.DataType.DT_BFLOAT16, 384, 1536, 7, 128);
    // bfloat16 keeps fused (1070), float32 plain (809)
    String slower =
        ProductProbe.bfloat16Advice(
            key, new ProductProbe.Timing(1070, 1300), new ProductProbe.Timing(1800, 809));
    assertTrue(slower.startsWith("-bf16 buys little or no speed on this CPU"), slower);
    assertTrue(slower.contains("128 rows x 384 x 1536 on 7 threads"), slower);
    assertTrue(slower.contains("1070 µs in bfloat16 against 809 µs in float32"), slower);
    ProductProbe.Timing float32 = new ProductProbe.Timing(1000, Double.NaN); // fused kept: 1000
    assertNotNull(advice(key, 1000, float32), "as fast");
    assertNotNull(advice(key, 920, float32), "within 10 %");
    assertNull(advice(key, 900, float32), "clearly faster");
    assertNull(advice(key, Double.NaN, float32), "bfloat16 not timed");
    assertNull(
        ProductProbe.bfloat16Advice(
            key,
            new ProductProbe.Timing(1000, Double.NaN),
            new ProductProbe.Timing(Double.NaN, Double.NaN)),
        "float32 not timed");

    ProductProbe.Timing slow = new ProductProbe.Timing(1070, Double.NaN);
    assertTrue(ProductProbe.advise(key, slow, float32), "warned");
    assertFalse(ProductProbe.advise(key, slow, float32), "once per shape");
    ProductProbe.Key other =
        new ProductProbe.Key(org.tensorflow.proto.DataType.DT_BFLOAT16, 384, 1536, 7, 16);
    assertFalse(
        ProductProbe.advise(other, new ProductProbe.Timing(500, Double.NaN), float32),
        "clearly faster: no warning");
  }

  private static String advice(ProductProbe.Key key, double bfloat16, ProductProbe.Timing f32) {
    return ProductProbe.bfloat16Advice(key, new ProductProbe.Timing(bfloat16, Double.NaN), f32);
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

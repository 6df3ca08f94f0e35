package org.bertserving.engine.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.ModelBackend;
import org.bertserving.engine.ModelFiles;
import org.bertserving.engine.PoolingStrategy;
import org.bertserving.engine.ProductKernel;
import org.bertserving.engine.TinyBert;
import org.bertserving.engine.TinyHuggingFace;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session whose encoder layers are cut into two chains (each with half the attention heads and
 * half the feed-forward width, their partial outputs summed) answers what the whole layers answer,
 * on real TensorFlow sessions, with the weights read from a Google checkpoint and from a Hugging
 * Face folder (whose kernels are transposed on the way in), pooled over tokens and through BERT's
 * pooler.
 */
class SplitLayersTest {
  @TempDir static Path tmp;

  @Test
  void splitLayersAnswerAsWholeLayersFromACheckpoint() throws Exception {
    EngineSettings s = EngineSettings.builder().modelDir(TestNodes.tinyModel()).build();
    assertSameVectors(s);
    assertSameVectors(s.toBuilder().poolingStrategy(PoolingStrategy.CLS_POOLED).build());
  }

  @Test
  void splitLayersAnswerAsWholeLayersFromAHuggingFaceFolder() throws Exception {
    BertConfig config = new BertConfig(TinyBert.VOCAB.size(), 32, 2, 4, 64, "gelu_exact", 64, 2);
    Path dir =
        TinyHuggingFace.write(
            tmp.resolve("st"), config, 7, TinyHuggingFace.Layout.sentenceTransformers());
    assertSameVectors(EngineSettings.builder().modelDir(dir).build());
  }

  /**
   * With fused products, a product without a bias would run as {@code _MklMatMul}, which lays its
   * weights out again on every run (92 µs a half against 75 for the fused kernel, MiniLM, 8 tokens,
   * on a Zen 4); so each part's product carries one, the first part the layer's bias and the others
   * zeros.
   */
  @Test
  void everyFusedProductOfASplitLayerCarriesABias() throws Exception {
    try (TfBertBackend halves = twoPartSession(ProductKernel.FUSED)) {
      int products = 0;
      for (var it = halves.graph().operations(); it.hasNext(); ) {
        var op = it.next();
        if (op.type().equals("MatMul") && op.name().startsWith("bert/encoder/")) {
          products++;
          for (var consumer : op.consumers()) {
            assertEquals("BiasAdd", consumer.type(), op.name() + " feeds " + consumer.name());
          }
        }
      }
      // per layer and part: query/key/value, attention output, intermediate, output
      assertEquals(TinyBert.CONFIG.numHiddenLayers() * SizedSessions.PARTS * 4, products);
    }
  }

  /**
   * With plain products every product is {@code BatchMatMulV3}, which the remapper does not fuse
   * with a bias; a product whose input rows are split adds the layer's bias in its first part only,
   * and no part adds zeros.
   */
  @Test
  void plainProductsOfASplitLayerAddTheBiasOnce() throws Exception {
    try (TfBertBackend halves = twoPartSession(ProductKernel.PLAIN)) {
      int products = 0;
      int biased = 0;
      for (var it = halves.graph().operations(); it.hasNext(); ) {
        var op = it.next();
        assertFalse(op.type().equals("MatMul") && op.name().startsWith("bert/encoder/"), op.name());
        assertFalse(op.name().contains("zero_bias"), op.name());
        if (op.type().equals("BatchMatMulV3") && op.name().startsWith("bert/encoder/layer_")) {
          boolean weightProduct = false;
          for (int i = 0; i < op.numInputs(); i++) {
            weightProduct |= op.input(i).op().type().startsWith("Variable");
          }
          if (!weightProduct) {
            continue; // attention's products of queries, keys and values
          }
          products++;
          for (var consumer : op.consumers()) {
            biased += consumer.type().equals("BiasAdd") ? 1 : 0;
          }
        }
      }
      int perLayer = SizedSessions.PARTS * 4;
      assertEquals(TinyBert.CONFIG.numHiddenLayers() * perLayer, products);
      // the query/key/value and intermediate products of every part, the others in part 0 only
      assertEquals(TinyBert.CONFIG.numHiddenLayers() * (SizedSessions.PARTS * 2 + 2), biased);
      // and as TensorFlow runs it, optimized: no product fused with its bias
      Map<String, Integer> ran = halves.opsRun(SizedSessionsTest.rows(2, 9));
      assertFalse(ran.keySet().stream().anyMatch(op -> op.contains("FusedMatMul")), ran.toString());
    }
    try (TfBertBackend fused = twoPartSession(ProductKernel.FUSED)) {
      Map<String, Integer> ran = fused.opsRun(SizedSessionsTest.rows(2, 9));
      assertTrue(ran.keySet().stream().anyMatch(op -> op.contains("FusedMatMul")), ran.toString());
    }
  }

  /**
   * Each chain sums the partial outputs with its own copy of the residual and normalizes it, so no
   * thread waits while another normalizes; TensorFlow merges equal ops unless told apart, so the
   * run itself, as optimized, must still hold one sum and one layer norm a chain at each of a
   * layer's two sums.
   */
  @Test
  void eachChainNormalizesItsOwnCopyOfEverySum() throws Exception {
    try (TfBertBackend halves = twoPartSession(ProductKernel.MEASURED)) {
      Map<String, Integer> ran = halves.opsRun(SizedSessionsTest.rows(2, 9));
      // but the last layer's output, of which only the first chain's copy is read (the others are
      // pruned)
      int sums = TinyBert.CONFIG.numHiddenLayers() * 2 * SizedSessions.PARTS - 1;
      assertEquals(sums, ran.get("AddN"), ran.toString());
      // composed layer norms (one rsqrt each): the embeddings' and one a sum
      assertEquals(1 + sums, ran.get("Rsqrt"), ran.toString());
    }
  }

  /** A two-part session of the tiny model with every layer built. */
  private static TfBertBackend twoPartSession(ProductKernel products) throws Exception {
    EngineSettings s =
        EngineSettings.builder()
            .modelDir(TestNodes.tinyModel())
            .products(products)
            .poolingStrategy(PoolingStrategy.CLS_POOLED) // every layer built
            .intraOpThreads(1)
            .interOpThreads(SizedSessions.PARTS)
            .build();
    ModelFiles files = ModelFiles.locate(s);
    return TfBertBackend.open(files, BertConfig.read(files.config()), s, SizedSessions.PARTS);
  }

  @Test
  void halvesAreOfferedOnlyWhereHeadsAndWidthDivideAndTwoCoresRunThem() {
    assertTrue(SizedSessions.halvesApply(TinyBert.CONFIG, 2)); // 4 heads, 64 wide
    assertFalse(SizedSessions.halvesApply(TinyBert.CONFIG, 1)); // one core
    assertFalse(
        SizedSessions.halvesApply(
            new BertConfig(TinyBert.VOCAB.size(), 36, 2, 3, 64, "gelu", 64, 2), 2)); // 3 heads
    assertFalse(
        SizedSessions.halvesApply(
            new BertConfig(TinyBert.VOCAB.size(), 32, 2, 4, 65, "gelu", 64, 2), 2)); // odd width
  }

  /**
   * Whole layers of fused products against split layers and whole layers of either kernel ({@link
   * ProductKernel}).
   */
  private static void assertSameVectors(EngineSettings s) throws Exception {
    ModelFiles files = ModelFiles.locate(s);
    BertConfig declared = BertConfig.read(files.config());
    EngineSettings fused = s.toBuilder().products(ProductKernel.FUSED).build();
    try (ModelBackend whole = TfBertBackend.open(files, declared, fused)) {
      for (ProductKernel products : List.of(ProductKernel.FUSED, ProductKernel.PLAIN)) {
        EngineSettings split =
            s.toBuilder()
                .products(products)
                .intraOpThreads(1)
                .interOpThreads(SizedSessions.PARTS)
                .build();
        try (ModelBackend halves = TfBertBackend.open(files, declared, split, SizedSessions.PARTS);
            ModelBackend plainWhole =
                TfBertBackend.open(files, declared, s.toBuilder().products(products).build())) {
          for (int[] shape : new int[][] {{1, 3}, {2, 9}, {5, 16}}) {
            List<InputFeatures> rows = SizedSessionsTest.rows(shape[0], shape[1]);
            float[][] expected = whole.run(rows);
            for (ModelBackend other : List.of(halves, plainWhole)) {
              float[][] got = other.run(rows);
              assertEquals(expected.length, got.length);
              for (int r = 0; r < rows.size(); r++) {
                assertArrayEquals(
                    expected[r],
                    got[r],
                    1e-5f,
                    s.poolingStrategy()
                        + ", "
                        + products
                        + (other == halves ? " split" : " whole")
                        + ", row "
                        + r
                        + " of "
                        + shape[0]
                        + " x "
                        + shape[1]);
              }
            }
          }
        }
      }
    }
  }
}

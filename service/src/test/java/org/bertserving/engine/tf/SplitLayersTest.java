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
   * A product without a bias runs as {@code _MklMatMul}, which lays its weights out again on every
   * run (92 µs a half against 75 for the fused kernel, MiniLM, 8 tokens); so each part's product
   * carries one, the first part the layer's bias and the others zeros.
   */
  @Test
  void everyProductOfASplitLayerCarriesABias() throws Exception {
    try (TfBertBackend halves = twoPartSession()) {
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
   * Each chain sums the partial outputs with its own copy of the residual and normalizes it, so no
   * thread waits while another normalizes; TensorFlow merges equal ops unless told apart, so the
   * run itself, as optimized, must still hold one sum and one layer norm a chain at each of a
   * layer's two sums.
   */
  @Test
  void eachChainNormalizesItsOwnCopyOfEverySum() throws Exception {
    try (TfBertBackend halves = twoPartSession()) {
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
  private static TfBertBackend twoPartSession() throws Exception {
    EngineSettings s =
        EngineSettings.builder()
            .modelDir(TestNodes.tinyModel())
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

  private static void assertSameVectors(EngineSettings s) throws Exception {
    ModelFiles files = ModelFiles.locate(s);
    BertConfig declared = BertConfig.read(files.config());
    EngineSettings split =
        s.toBuilder().intraOpThreads(1).interOpThreads(SizedSessions.PARTS).build();
    try (ModelBackend whole = TfBertBackend.open(files, declared, s);
        ModelBackend halves = TfBertBackend.open(files, declared, split, SizedSessions.PARTS)) {
      for (int[] shape : new int[][] {{1, 3}, {2, 9}, {5, 16}}) {
        List<InputFeatures> rows = SizedSessionsTest.rows(shape[0], shape[1]);
        float[][] expected = whole.run(rows);
        float[][] got = halves.run(rows);
        assertEquals(expected.length, got.length);
        for (int r = 0; r < rows.size(); r++) {
          assertArrayEquals(
              expected[r],
              got[r],
              1e-5f,
              s.poolingStrategy() + ", row " + r + " of " + shape[0] + " x " + shape[1]);
        }
      }
    }
  }
}

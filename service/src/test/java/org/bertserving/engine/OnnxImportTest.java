package org.bertserving.engine;

import static org.bertserving.engine.TinyModelEngineTest.assertClose;
import static org.bertserving.engine.TinyModelEngineTest.concat;
import static org.bertserving.engine.TinyModelEngineTest.flatten;
import static org.bertserving.engine.TinyModelEngineTest.masked;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.bertserving.engine.TinyOnnx.Variant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX import on a tiny model ({@link TinyOnnx}) against the plain-Java forward pass: anonymous
 * MatMul weights found through the nodes that consume them, the pooler's Gemm weight transposed,
 * the config derived from the graph when no config.json comes with it; and the graphs it cannot
 * take refused naming the node, the tensor or what is missing.
 */
class OnnxImportTest {
  static final BertConfig CONFIG = HuggingFaceFolderTest.CONFIG;
  private static final long SEED = 5;

  @TempDir Path tmp;

  @Test
  void anExportedGraphRunsAsItsWeightsSay() throws IOException {
    Path dir = TinyOnnx.writeFolder(tmp.resolve("onnx"), CONFIG, SEED, Variant.EXPORT);
    ReferenceBert reference = new ReferenceBert(CONFIG, TinyBert.weights(CONFIG, SEED, 0, ""), "");
    List<String> texts = TinyModelEngineTest.TEXTS;
    try (BertEncoder encoder =
        BertEncoder.load(
            EngineSettings.builder()
                .modelDir(dir)
                .maxSeqLen(16)
                .poolingStrategy(PoolingStrategy.NONE)
                .poolingLayers(List.of(-1, 0))
                .build())) {
      assertEquals(CONFIG, encoder.config(), "4 heads from the scale sqrt(8), erf gelu, eps 1e-12");
      EncodedRows result = encoder.encode(texts, false);
      List<InputFeatures> rows = encoder.featurizer().featurize(texts, false).rows();
      for (int r = 0; r < rows.size(); r++) {
        double[][] expected =
            masked(concat(reference.layers(rows.get(r)), List.of(-1, 0)), rows.get(r));
        assertClose(flatten(expected), result.rows().get(r), "row " + r);
      }
    }
    reference.assertClsPooled(dir, texts, "pooler (Gemm)");
  }

  /** Weights stay views of the memory-mapped file: a model is never copied into the heap. */
  @Test
  void weightsAreViewsOfTheMappedFile() throws IOException {
    Path dir = TinyOnnx.writeFolder(tmp.resolve("mapped"), CONFIG, SEED, Variant.EXPORT);
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir)) {
      Path onnx = files.filter(f -> f.toString().endsWith(".onnx")).findFirst().orElseThrow();
      var tensors = org.bertserving.engine.hf.OnnxModel.read(onnx).tensorsByModuleName();
      var word = tensors.get("embeddings.word_embeddings.weight");
      assertTrue(word != null, "word embeddings among " + tensors.keySet());
      assertTrue(word.data().isDirect(), "a view of the mapped file, not a heap copy");
      assertEquals(word.elements() * 4, word.data().remaining());
    }
  }

  @Test
  void graphsItCannotTakeAreRefusedNamingWhy() throws IOException {
    Path fused = TinyOnnx.writeFolder(tmp.resolve("fused"), CONFIG, SEED, Variant.FUSED_ATTENTION);
    assertFails(
        fused,
        fused.resolve("model.onnx")
            + ": node 'Attention_0' is a Attention (an ONNX "
            + "Runtime-optimized or quantized graph)");
    Path int8 = TinyOnnx.writeFolder(tmp.resolve("int8"), CONFIG, SEED, Variant.INT8_EMBEDDINGS);
    assertFails(
        int8,
        int8.resolve("model.onnx")
            + ": tensor 'embeddings.word_embeddings.weight' is I8, "
            + "expected F32, F16 or BF16");
    Path noScale = TinyOnnx.writeFolder(tmp.resolve("no-scale"), CONFIG, SEED, Variant.NO_SCALE);
    assertFails(
        noScale,
        "no config.json beside it, and its graph does not show the attention head "
            + "size; put the model's config.json beside it");
    // with the model's config.json beside it, the same file loads
    TinyHuggingFace.writeConfig(noScale.resolve("config.json"), CONFIG);
    try (BertEncoder encoder =
        BertEncoder.load(EngineSettings.builder().modelDir(noScale).build())) {
      assertEquals(CONFIG, encoder.config());
    }
  }

  private static void assertFails(Path dir, String fragment) {
    Throwable e =
        assertThrows(
            Exception.class,
            () -> BertEncoder.load(EngineSettings.builder().modelDir(dir).build()));
    assertTrue(
        e.getMessage().contains(fragment),
        "expected a message containing '" + fragment + "' but got: " + e.getMessage());
  }
}

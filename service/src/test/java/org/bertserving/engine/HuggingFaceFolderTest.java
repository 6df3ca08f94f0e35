package org.bertserving.engine;

import static org.bertserving.engine.TinyModelEngineTest.assertClose;
import static org.bertserving.engine.TinyModelEngineTest.assertMessage;
import static org.bertserving.engine.TinyModelEngineTest.concat;
import static org.bertserving.engine.TinyModelEngineTest.flatten;
import static org.bertserving.engine.TinyModelEngineTest.masked;
import static org.bertserving.engine.TinyModelEngineTest.pool;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bertserving.engine.TinyHuggingFace.Layout;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny Hugging Face folder ({@link TinyHuggingFace}: config.json, model.safetensors,
 * tokenizer.json or vocab.txt, sentence-transformers' files) through the engine, against the same
 * plain-Java forward pass as the tiny Google checkpoint ({@link ReferenceBert}) with PyTorch's
 * exact gelu, and sentence-transformers' pooling and normalization in plain Java.
 */
class HuggingFaceFolderTest {
  /** Hugging Face's BERT: erf gelu, which its config.json calls "gelu". */
  static final BertConfig CONFIG =
      new BertConfig(TinyBert.VOCAB.size(), 32, 2, 4, 64, "gelu_exact", 64, 2);

  private static final long SEED = 11;

  @TempDir static Path tmp;
  static Path sentenceTransformers;
  static ReferenceBert reference;

  @BeforeAll
  static void writeModels() throws IOException {
    sentenceTransformers =
        TinyHuggingFace.write(tmp.resolve("st"), CONFIG, SEED, Layout.sentenceTransformers());
    reference = new ReferenceBert(CONFIG, TinyHuggingFace.stored(CONFIG, SEED, "F32"), "");
  }

  @Test
  void aSentenceTransformersFolderRunsAsItsFilesSay() throws IOException {
    EngineSettings settings = EngineSettings.builder().modelDir(sentenceTransformers).build();
    assertEquals(16, settings.maxSeqLen(), "sentence_bert_config.json's max_seq_length");
    assertEquals(List.of(-1), settings.poolingLayers());
    assertEquals(PoolingStrategy.REDUCE_MEAN, settings.poolingStrategy());
    assertTrue(settings.normalize(), "modules.json has a Normalize module");
    List<String> texts = TinyModelEngineTest.TEXTS;
    try (BertEncoder encoder = BertEncoder.load(settings)) {
      float[][] vectors = encoder.encode(texts);
      List<InputFeatures> rows = encoder.featurizer().featurize(texts, false).rows();
      for (int r = 0; r < rows.size(); r++) {
        double[] mean =
            pool(PoolingStrategy.REDUCE_MEAN, last(rows.get(r)), rows.get(r).inputMask());
        assertClose(normalized(mean), vectors[r], "row " + r);
      }
      // truncation at max_seq_length (16), not at the tokenizer.json's own 4
      assertEquals(
          16,
          encoder
              .featurizer()
              .featurize(List.of("the dog ".repeat(20)), false)
              .rows()
              .get(0)
              .length());
      // a worker's new session after a failed run reads the same weights again
      encoder.restartSession();
      assertClose(
          TinyModelEngineTest.toDouble(vectors[2]), encoder.encode(texts)[2], "after restart");
    }
  }

  @Test
  void everyPoolingStrategyAndLayerChoiceWorksOnAPlainFolder() throws IOException {
    Path plain = TinyHuggingFace.write(tmp.resolve("plain"), CONFIG, SEED, Layout.plain());
    EngineSettings defaults = EngineSettings.builder().modelDir(plain).build();
    assertEquals(25, defaults.maxSeqLen(), "no sentence-transformers files: bert-as-service's");
    assertTrue(!defaults.normalize());
    List<String> texts = TinyModelEngineTest.TEXTS;
    for (List<Integer> layers : List.of(List.of(-1), List.of(-2), List.of(-1, 0))) {
      try (BertEncoder encoder =
          BertEncoder.load(
              EngineSettings.builder()
                  .modelDir(plain)
                  .maxSeqLen(16)
                  .poolingStrategy(PoolingStrategy.NONE)
                  .poolingLayers(layers)
                  .build())) {
        EncodedRows result = encoder.encode(texts, false);
        List<InputFeatures> rows = encoder.featurizer().featurize(texts, false).rows();
        for (int r = 0; r < rows.size(); r++) {
          double[][] expected = masked(concat(reference.layers(rows.get(r)), layers), rows.get(r));
          assertClose(flatten(expected), result.rows().get(r), "NONE " + layers + " row " + r);
        }
      }
    }
    for (PoolingStrategy strategy : TinyModelEngineTest.OTHER_POOLINGS) {
      try (BertEncoder encoder =
          BertEncoder.load(
              EngineSettings.builder()
                  .modelDir(plain)
                  .maxSeqLen(16)
                  .poolingStrategy(strategy)
                  .build())) {
        float[][] vectors = encoder.encode(texts);
        List<InputFeatures> rows = encoder.featurizer().featurize(texts, false).rows();
        for (int r = 0; r < rows.size(); r++) {
          double[][] states = concat(reference.layers(rows.get(r)), List.of(-2));
          assertClose(
              pool(strategy, states, rows.get(r).inputMask()), vectors[r], strategy + " row " + r);
        }
      }
    }
    reference.assertClsPooled(plain, texts, "CLS_POOLED");
  }

  @Test
  void bfloat16WeightsAndClsPooling() throws IOException {
    Path dir =
        TinyHuggingFace.write(
            tmp.resolve("bf16"),
            CONFIG,
            SEED,
            new Layout("bert.", "BF16", "cls_token", false, 12, true));
    ReferenceBert rounded =
        new ReferenceBert(CONFIG, TinyHuggingFace.stored(CONFIG, SEED, "BF16"), "");
    EngineSettings settings = EngineSettings.builder().modelDir(dir).build();
    assertEquals(PoolingStrategy.FIRST_TOKEN, settings.poolingStrategy());
    assertTrue(!settings.normalize());
    try (BertEncoder encoder = BertEncoder.load(settings)) {
      float[][] vectors = encoder.encode(TinyModelEngineTest.TEXTS);
      List<InputFeatures> rows =
          encoder.featurizer().featurize(TinyModelEngineTest.TEXTS, false).rows();
      for (int r = 0; r < rows.size(); r++) {
        assertClose(last(rounded, rows.get(r))[0], vectors[r], "CLS row " + r);
      }
    }
  }

  @Test
  void aCallsPromptNormalizationAndDimensions() throws IOException {
    try (BertEncoder encoder =
        BertEncoder.load(
            EngineSettings.builder().modelDir(sentenceTransformers).prompt("hello ").build())) {
      List<String> texts = List.of("the dog sat on the mat.", "how are you?");
      InputFeatures prompted = encoder.featurizer().featurize(texts, false).rows().get(0);
      assertEquals(
          List.of("[CLS]", "hello", "the", "dog", "sat", "on", "the", "mat", ".", "[SEP]"),
          prompted.tokens(),
          "-prompt goes before each text");
      double[] mean = pool(PoolingStrategy.REDUCE_MEAN, last(prompted), prompted.inputMask());

      float[][] raw = encoder.encode(texts, false, new CallOptions(null, false, null)).matrix();
      assertClose(mean, raw[0], "normalize=false: the plain mean");
      float[][] eight = encoder.encode(texts, false, new CallOptions(null, null, 8)).matrix();
      assertEquals(8, eight[0].length);
      assertClose(normalized(java.util.Arrays.copyOf(mean, 8)), eight[0], "first 8, renormalized");
      assertEquals(8, encoder.encode(texts, false, new CallOptions(null, null, 8)).dim());
      float[][] rawEight = encoder.encode(texts, false, new CallOptions(null, false, 8)).matrix();
      assertClose(java.util.Arrays.copyOf(mean, 8), rawEight[0], "first 8, not normalized");

      InputFeatures noPrompt = encoder.featurizer().featurize(texts, false, "").rows().get(0);
      float[][] plain = encoder.encode(texts, false, new CallOptions("", null, null)).matrix();
      assertClose(
          normalized(pool(PoolingStrategy.REDUCE_MEAN, last(noPrompt), noPrompt.inputMask())),
          plain[0],
          "a call's empty prompt replaces -prompt");
      EncodedRows tokenized =
          encoder.encode(
              List.of(List.of("the", "dog")), true, new CallOptions("how are", null, null));
      assertEquals(
          List.of("[CLS]", "how", "are", "the", "dog", "[SEP]"), tokenized.tokens().get(0));

      assertMessage(
          () -> encoder.encode(texts, false, new CallOptions(null, null, 0)),
          "dimensions 0 is out of range: expected 1 to 32");
      assertMessage(
          () -> encoder.encode(texts, false, new CallOptions(null, null, 33)),
          "dimensions 33 is out of range: expected 1 to 32");
      assertTrue(
          org.junit.jupiter.api.Assertions.assertThrows(
                      InvalidInputException.class,
                      () -> encoder.encode(texts, false, new CallOptions(null, null, 33)))
                  .index()
              < 0);
    }
  }

  @Test
  void aGoogleModelIsNotNormalizedUnlessAsked() throws IOException {
    Path google = TinyBert.writeGoogleFolder(tmp.resolve("google"), TinyBert.CONFIG, 42, 0);
    try (BertEncoder encoder =
        BertEncoder.load(EngineSettings.builder().modelDir(google).maxSeqLen(16).build())) {
      List<String> texts = List.of("hello world");
      float[] plain = encoder.encode(texts)[0];
      float[] unit = encoder.encode(texts, false, new CallOptions(null, true, null)).matrix()[0];
      assertClose(normalized(TinyModelEngineTest.toDouble(plain)), unit, "normalize on request");
      assertTrue(Math.abs(norm(plain) - 1) > 1e-3, "off by default: " + norm(plain));
    }
  }

  @Test
  void foldersThisEngineCannotRunFailNamingTheFileTensorOrField() throws IOException {
    Layout layout = Layout.sentenceTransformers();
    Path torch = TinyHuggingFace.write(tmp.resolve("torch"), CONFIG, SEED, layout);
    Files.move(torch.resolve("model.safetensors"), torch.resolve("pytorch_model.bin"));
    assertFails(() -> load(torch), torch.resolve("pytorch_model.bin") + " is a PyTorch pickle");
    assertFails(() -> load(torch), "model.safetensors");

    Path empty = TinyHuggingFace.write(tmp.resolve("empty"), CONFIG, SEED, layout);
    Files.delete(empty.resolve("model.safetensors"));
    assertFails(() -> load(empty), "has no weights: expected model.safetensors or model.onnx");

    Path roberta = TinyHuggingFace.write(tmp.resolve("roberta"), CONFIG, SEED, layout);
    edit(
        roberta.resolve("config.json"),
        "\"model_type\":\"bert\"",
        "\"model_type\":\"xlm-roberta\"");
    assertFails(
        () -> load(roberta),
        roberta.resolve("config.json")
            + ": model_type is 'xlm-roberta' ([\"BertModel\"]), expected 'bert' or 'electra'");

    Path silu = TinyHuggingFace.write(tmp.resolve("silu"), CONFIG, SEED, layout);
    edit(silu.resolve("config.json"), "\"hidden_act\":\"gelu\"", "\"hidden_act\":\"silu\"");
    assertFails(() -> load(silu), "hidden_act is 'silu'");

    Path bpe = TinyHuggingFace.write(tmp.resolve("bpe"), CONFIG, SEED, layout);
    edit(bpe.resolve("tokenizer.json"), "\"type\":\"WordPiece\"", "\"type\":\"BPE\"");
    assertFails(
        () -> load(bpe),
        bpe.resolve("tokenizer.json") + ": model.type is 'BPE', expected 'WordPiece'");

    Path noTokenizer = TinyHuggingFace.write(tmp.resolve("no-tokenizer"), CONFIG, SEED, layout);
    Files.delete(noTokenizer.resolve("tokenizer.json"));
    assertFails(
        () -> load(noTokenizer),
        "has no WordPiece tokenizer: expected tokenizer.json or vocab.txt");

    Path wide = TinyHuggingFace.write(tmp.resolve("wide"), CONFIG, SEED, layout);
    edit(wide.resolve("config.json"), "\"intermediate_size\":64", "\"intermediate_size\":128");
    assertFails(
        () -> load(wide),
        wide.resolve("model.safetensors")
            + ": tensor 'encoder.layer.0.intermediate.dense.weight' has shape [64, 32], the config needs [128, 32]");

    Path deep = TinyHuggingFace.write(tmp.resolve("deep"), CONFIG, SEED, layout);
    edit(deep.resolve("config.json"), "\"num_hidden_layers\":2", "\"num_hidden_layers\":3");
    assertFails(
        () -> load(deep),
        deep.resolve("model.safetensors")
            + " has no tensor 'encoder.layer.2.attention.self.query.weight'");

    Path dense = TinyHuggingFace.write(tmp.resolve("dense"), CONFIG, SEED, layout);
    edit(
        dense.resolve("modules.json"),
        "sentence_transformers.models.Normalize",
        "sentence_transformers.models.Dense");
    assertFails(() -> load(dense), "module '2_Normalize' is sentence_transformers.models.Dense");

    Path sqrt =
        TinyHuggingFace.write(
            tmp.resolve("sqrt"),
            CONFIG,
            SEED,
            new Layout("", "F32", "mean_sqrt_len_tokens", true, 16, true));
    assertFails(() -> load(sqrt), "pooling modes [mean_sqrt_len_tokens], expected exactly one of");

    Path truncated = TinyHuggingFace.write(tmp.resolve("truncated"), CONFIG, SEED, layout);
    Path weights = truncated.resolve("model.safetensors");
    Files.write(
        weights,
        java.util.Arrays.copyOf(Files.readAllBytes(weights), (int) Files.size(weights) - 100));
    assertFails(() -> load(truncated), "safetensors file " + weights + ": tensor");
  }

  /** A model error: an IOException (a file that cannot be read) or a ModelLoadException. */
  private static void assertFails(org.junit.jupiter.api.function.Executable call, String fragment) {
    Throwable e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, call);
    assertTrue(
        e.getMessage().contains(fragment),
        "expected a message containing '" + fragment + "' but got: " + e.getMessage());
  }

  private static BertEncoder load(Path dir) throws IOException {
    return BertEncoder.load(EngineSettings.builder().modelDir(dir).build());
  }

  private static void edit(Path file, String from, String to) throws IOException {
    String text = Files.readString(file);
    assertTrue(text.contains(from), file + " has no " + from);
    Files.writeString(file, text.replace(from, to));
  }

  private static double[][] last(InputFeatures row) {
    return last(reference, row);
  }

  private static double[][] last(ReferenceBert model, InputFeatures row) {
    List<double[][]> layers = model.layers(row);
    return layers.get(layers.size() - 1);
  }

  static double[] normalized(double[] v) {
    double n = 0;
    for (double x : v) {
      n += x * x;
    }
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] / Math.sqrt(n);
    }
    return out;
  }

  private static double norm(float[] v) {
    double n = 0;
    for (float x : v) {
      n += x * x;
    }
    return Math.sqrt(n);
  }
}

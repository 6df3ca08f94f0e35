package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bertserving.engine.TinyBert.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine on a tiny BERT written by {@link TinyBert}: every pooling strategy and layer choice
 * against a plain-Java forward pass ({@link ReferenceBert}) and plain-Java pooling. Its engines
 * keep one TensorFlow session each ({@code sizedSessions(false)}), since it loads dozens.
 */
class TinyModelEngineTest {
  private static final double TOLERANCE = 2e-4;
  private static final long SEED = 42;
  private static final int LABELS = 3;

  static final List<String> TEXTS =
      List.of(
          "hello world",
          "how are you?",
          "the dog sat on the mat.",
          "new york city is big ||| the cat is small!",
          "a",
          "the red dog runs to the blue cat, the small cat runs to the big dog.",
          "zebra unknownword hello");

  @TempDir static Path tmp;
  static Path model;
  static Map<String, Tensor> weights;
  static ReferenceBert reference;

  @BeforeAll
  static void writeModel() throws IOException {
    model = TinyBert.writeGoogleFolder(tmp.resolve("tiny"), TinyBert.CONFIG, SEED, LABELS);
    weights = TinyBert.weights(TinyBert.CONFIG, SEED, LABELS, "");
    reference = new ReferenceBert(TinyBert.CONFIG, weights, "");
  }

  static EngineSettings.Builder settings() {
    return EngineSettings.builder().modelDir(model).maxSeqLen(16).sizedSessions(false);
  }

  @Test
  void tokenLevelOutputEqualsReferenceForEveryLayerChoice() throws IOException {
    for (List<Integer> layers : List.of(List.of(-1), List.of(-2), List.of(0), List.of(-1, 0))) {
      for (boolean maskClsSep : new boolean[] {false, true}) {
        EngineSettings s =
            settings()
                .poolingStrategy(PoolingStrategy.NONE)
                .poolingLayers(layers)
                .maskClsSep(maskClsSep)
                .build();
        try (BertEncoder encoder = BertEncoder.load(s)) {
          EncodedRows result = encoder.encode(TEXTS, false);
          List<InputFeatures> rows = encoder.featurizer().featurize(TEXTS, false).rows();
          for (int r = 0; r < rows.size(); r++) {
            double[][] expected =
                masked(concat(reference.layers(rows.get(r)), layers), rows.get(r));
            assertClose(
                flatten(expected),
                result.rows().get(r),
                "NONE " + layers + " maskClsSep=" + maskClsSep + " row " + r);
          }
          float[][][] padded = result.tokenMatrices();
          assertEquals(16, padded[0].length, "token-level output is padded to max_seq_len");
        }
      }
    }
  }

  @Test
  void everyPoolingStrategyEqualsJavaPoolingForEveryLayerChoice() throws IOException {
    List<PoolingStrategy> strategies = new java.util.ArrayList<>(OTHER_POOLINGS);
    strategies.add(0, PoolingStrategy.REDUCE_MEAN);
    for (List<Integer> layers : List.of(List.of(-2), List.of(-1), List.of(-1, -2, 0))) {
      for (boolean maskClsSep : new boolean[] {false, true}) {
        for (PoolingStrategy strategy : strategies) {
          EngineSettings s =
              settings()
                  .poolingStrategy(strategy)
                  .poolingLayers(layers)
                  .maskClsSep(maskClsSep)
                  .build();
          try (BertEncoder encoder = BertEncoder.load(s)) {
            float[][] vectors = encoder.encode(TEXTS, false).matrix();
            List<InputFeatures> rows = encoder.featurizer().featurize(TEXTS, false).rows();
            for (int r = 0; r < rows.size(); r++) {
              double[][] states = concat(reference.layers(rows.get(r)), layers);
              assertClose(
                  pool(strategy, states, rows.get(r).inputMask()),
                  vectors[r],
                  strategy + " " + layers + " maskClsSep=" + maskClsSep + " row " + r);
            }
          }
        }
      }
    }
  }

  @Test
  void poolingFromTheEnginesOwnTokenOutputAgrees() throws IOException {
    float[][] tokens;
    int dim;
    try (BertEncoder none =
        BertEncoder.load(settings().poolingStrategy(PoolingStrategy.NONE).build())) {
      EncodedRows r = none.encode(TEXTS, false);
      tokens = r.rows().toArray(new float[0][]);
      dim = r.dim();
    }
    for (PoolingStrategy strategy :
        List.of(
            PoolingStrategy.REDUCE_MEAN,
            PoolingStrategy.REDUCE_MAX,
            PoolingStrategy.FIRST_TOKEN,
            PoolingStrategy.LAST_TOKEN)) {
      try (BertEncoder encoder = BertEncoder.load(settings().poolingStrategy(strategy).build())) {
        float[][] pooled = encoder.encode(TEXTS, false).matrix();
        List<InputFeatures> rows = encoder.featurizer().featurize(TEXTS, false).rows();
        for (int r = 0; r < rows.size(); r++) {
          double[][] states = new double[rows.get(r).length()][dim];
          for (int t = 0; t < states.length; t++) {
            for (int d = 0; d < dim; d++) {
              states[t][d] = tokens[r][t * dim + d];
            }
          }
          assertClose(
              pool(strategy, states, rows.get(r).inputMask()), pooled[r], strategy + " row " + r);
        }
      }
    }
  }

  @Test
  void pooledClassificationAndRegressionHeads() throws IOException {
    Path regressionModel =
        TinyBert.writeGoogleFolder(tmp.resolve("regression"), TinyBert.CONFIG, SEED, 1);
    for (PoolingStrategy strategy :
        List.of(
            PoolingStrategy.CLS_POOLED,
            PoolingStrategy.CLASSIFICATION,
            PoolingStrategy.REGRESSION)) {
      int labels = strategy == PoolingStrategy.REGRESSION ? 1 : LABELS;
      Path dir = labels == 1 ? regressionModel : model;
      EngineSettings s =
          settings()
              .modelDir(dir)
              .poolingStrategy(strategy)
              .numLabels(labels)
              .poolingLayers(List.of(0))
              .build();
      try (BertEncoder encoder = BertEncoder.load(s)) {
        float[][] vectors = encoder.encode(TEXTS, false).matrix();
        List<InputFeatures> rows = encoder.featurizer().featurize(TEXTS, false).rows();
        Map<String, Tensor> w = TinyBert.weights(TinyBert.CONFIG, SEED, labels, "");
        for (int r = 0; r < rows.size(); r++) {
          double[] pooled = reference.pooled(rows.get(r));
          double[] expected =
              strategy == PoolingStrategy.CLS_POOLED
                  ? pooled
                  : head(pooled, w, strategy == PoolingStrategy.CLASSIFICATION);
          assertClose(expected, vectors[r], strategy + " row " + r);
        }
      }
    }
  }

  @Test
  void lengthSortedDynamicPaddingEqualsFixedPadding() throws IOException {
    try (BertEncoder encoder = BertEncoder.load(settings().maxBatchSize(3).build())) {
      List<InputFeatures> rows = encoder.featurizer().featurize(TEXTS, false).rows();
      float[][] dynamic = encoder.encodeFeatures(rows);
      List<InputFeatures> fixed = new ArrayList<>();
      for (InputFeatures row : rows) {
        fixed.add(
            new InputFeatures(
                pad(row.inputIds()), pad(row.segmentIds()), pad(row.inputMask()), row.tokens()));
      }
      float[][] padded = encoder.encodeFeatures(fixed);
      for (int r = 0; r < rows.size(); r++) {
        assertClose(toDouble(padded[r]), dynamic[r], "row " + r);
      }
      // and a text embeds the same alone as inside a batch
      for (int r = 0; r < TEXTS.size(); r++) {
        assertClose(toDouble(dynamic[r]), encoder.encode(List.of(TEXTS.get(r)))[0], "alone " + r);
      }
    }
  }

  @Test
  void maxSeqLenNoneUsesTheLongestTextAndFixedEmbedLengthPadsToPositions() throws IOException {
    try (BertEncoder encoder =
        BertEncoder.load(
            settings().maxSeqLen(null).poolingStrategy(PoolingStrategy.NONE).build())) {
      EncodedRows r = encoder.encode(List.of("hello world", "how are you ?"), false);
      assertEquals(6, r.outputLength(), "longest text (4 tokens) + [CLS] + [SEP]");
      assertEquals(6, r.tokenMatrices()[0].length);
    }
    try (BertEncoder encoder =
        BertEncoder.load(
            settings()
                .maxSeqLen(null)
                .fixedEmbedLength(true)
                .poolingStrategy(PoolingStrategy.NONE)
                .build())) {
      assertEquals(64, encoder.encode(List.of("hello world"), false).tokenMatrices()[0].length);
    }
  }

  @Test
  void tokenizedInputPairsUnknownTokensAndNoSpecialToken() throws IOException {
    try (BertEncoder encoder = BertEncoder.load(settings().build())) {
      EncodedRows r = encoder.encode(List.of(List.of("hello", "zebra", "|||", "world")), true);
      assertEquals(
          List.of("[CLS]", "hello", "[UNK]", "[SEP]", "world", "[SEP]"), r.tokens().get(0));
      InputFeatures f =
          encoder
              .featurizer()
              .featurize(List.of(List.of("hello", "|||", "world")), true)
              .rows()
              .get(0);
      assertArrayEquals(new int[] {0, 0, 0, 1, 1}, f.segmentIds());
      // the same as the text form
      assertClose(
          toDouble(encoder.encode(List.of("hello ||| world"))[0]),
          encoder.encode(List.of(List.of("hello", "|||", "world")), true).matrix()[0],
          "pair");
    }
    try (BertEncoder encoder = BertEncoder.load(settings().noSpecialToken(true).build())) {
      EncodedRows r = encoder.encode(List.of(List.of("hello", "world")), true);
      assertEquals(List.of("hello", "world"), r.tokens().get(0));
    }
  }

  @Test
  void aLiteralTextKeepsItsPairSeparatorAsPunctuationNotAPair() throws IOException {
    try (BertEncoder encoder = BertEncoder.load(settings().build())) {
      Object literal = Featurizer.literal("hello ||| world");
      assertEquals(Map.of(Featurizer.TEXT, "hello ||| world"), literal);
      assertEquals("hello world", Featurizer.literal("hello world"), "no separator: a string");
      InputFeatures f = encoder.featurizer().featurize(List.of(literal), false).rows().get(0);
      // "|" is not in the tiny vocabulary: each of the three is a word piece of its own, [UNK]
      assertEquals(
          List.of("[CLS]", "hello", "[UNK]", "[UNK]", "[UNK]", "world", "[SEP]"), f.tokens());
      assertArrayEquals(new int[7], f.segmentIds(), "one segment: no pair");
      // bert-as-service's own texts too: a separator at either end, or without its spaces, is
      // part of one sentence, as the original reads it (its pair is " ||| " between two texts)
      for (String one : List.of("hello |||", "||| world", "hello|||world")) {
        InputFeatures single = encoder.featurizer().featurize(List.of(one), false).rows().get(0);
        assertArrayEquals(new int[single.tokens().size()], single.segmentIds(), one);
        assertEquals(3, single.tokens().stream().filter("[UNK]"::equals).count(), one);
      }
      // a separator at either end is a character like any other, not "a pair with an empty side"
      assertEquals(
          List.of("[CLS]", "hello", "[UNK]", "[UNK]", "[UNK]", "[SEP]"),
          encoder
              .featurizer()
              .featurize(List.of(Featurizer.literal("hello ||| ")), false)
              .rows()
              .get(0)
              .tokens());
      // spaces alone, as written (OpenAI's and TEI's routes): [CLS] [SEP]; the empty string:
      // refused
      assertEquals(Map.of(Featurizer.TEXT, " \t"), Featurizer.literal(" \t"));
      assertEquals(
          List.of("[CLS]", "[SEP]"),
          encoder
              .featurizer()
              .featurize(List.of(Featurizer.literal(" \t")), false)
              .rows()
              .get(0)
              .tokens());
      assertMessage(
          () -> encoder.encode(List.of(Map.of(Featurizer.TEXT, "")), false),
          "input 0: text is empty");
      assertMessage(
          () -> encoder.encode(List.of(Map.of("txt", "a")), false),
          "input 0: expected a string, a text");
    }
  }

  @Test
  void truncationKeepsTheFirstTokensAndPairsLongestFirst() throws IOException {
    try (BertEncoder encoder = BertEncoder.load(settings().maxSeqLen(6).build())) {
      Featurizer f = encoder.featurizer();
      assertEquals(
          List.of("[CLS]", "the", "dog", "sat", "on", "[SEP]"),
          f.featurize(List.of("the dog sat on the mat"), false).rows().get(0).tokens());
      assertEquals(
          List.of("[CLS]", "the", "dog", "[SEP]", "hello", "[SEP]"),
          f.featurize(List.of("the dog sat on ||| hello"), false).rows().get(0).tokens());
    }
  }

  @Test
  void badInputIsRefusedAsAWholeNamingTheIndex() throws IOException {
    try (BertEncoder encoder = BertEncoder.load(settings().build())) {
      assertMessage(() -> encoder.encode(List.of(), false), "no texts");
      assertMessage(() -> encoder.encode(null, false), "no texts");
      assertMessage(
          () -> encoder.encode(java.util.Arrays.asList("hello", null), false),
          "input 1: text is null");
      assertMessage(() -> encoder.encode(List.of("hello", "  "), false), "input 1: text is empty");
      assertMessage(
          () -> encoder.encode(List.of("hello", List.of("a")), false),
          "input 1: expected a string");
      assertMessage(
          () -> encoder.encode(List.of("hello", 3), false),
          "input 1: expected a string but got a number");
      assertMessage(
          () -> encoder.encode(List.of(List.of("a"), "b"), true),
          "input 1: expected a list of tokens");
      assertMessage(() -> encoder.encode(List.of(List.of()), true), "input 0: token list is empty");
      assertMessage(() -> encoder.encode(List.of(List.of("a", 5)), true), "input 0: token 1");
      // and the engine still works
      assertEquals(TinyBert.CONFIG.hiddenSize(), encoder.encode(List.of("hello"))[0].length);
    }
  }

  @Test
  void savedModelFolderWithPrefixAndNoConfigEqualsGoogleFolder() throws IOException {
    BertConfig wide = new BertConfig(TinyBert.VOCAB.size(), 64, 2, 1, 128, "gelu", 64, 2);
    Path google = TinyBert.writeGoogleFolder(tmp.resolve("wide-google"), wide, 7, 0);
    Path saved = TinyBert.writeSavedModelFolder(tmp.resolve("wide-saved"), wide, 7);
    try (BertEncoder a = BertEncoder.load(settings().modelDir(google).build());
        BertEncoder b = BertEncoder.load(settings().modelDir(saved).build())) {
      assertEquals(wide, b.config(), "config derived from the tensor shapes");
      float[][] x = a.encode(TEXTS);
      float[][] y = b.encode(TEXTS);
      for (int r = 0; r < x.length; r++) {
        assertClose(toDouble(x[r]), y[r], "row " + r);
      }
    }
  }

  @Test
  void fp16AndXlaGraphsRunAndStayCloseToFloat32() throws IOException {
    float[][] exact;
    try (BertEncoder encoder = BertEncoder.load(settings().build())) {
      exact = encoder.encode(TEXTS);
    }
    for (EngineSettings s : List.of(settings().fp16(true).build(), settings().xla(true).build())) {
      try (BertEncoder encoder = BertEncoder.load(s)) {
        float[][] approx = encoder.encode(TEXTS);
        for (int r = 0; r < exact.length; r++) {
          double cosine = Vectors.cosine(exact[r], approx[r]);
          assertTrue(
              cosine > 0.999, (s.fp16() ? "fp16" : "xla") + " row " + r + " cosine " + cosine);
        }
      }
    }
  }

  @Test
  void tunedModelDirTakesCheckpointAndConfigFromTheFineTunedFolder() throws IOException {
    Path base = TinyBert.writeGoogleFolder(tmp.resolve("pretrained"), TinyBert.CONFIG, 1, 0);
    Path tuned = TinyBert.writeGoogleFolder(tmp.resolve("fine-tuned"), TinyBert.CONFIG, 2, LABELS);
    Files.delete(tuned.resolve("vocab.txt")); // fine-tuned folders often ship no vocabulary
    EngineSettings.Builder classify =
        settings().poolingStrategy(PoolingStrategy.CLASSIFICATION).numLabels(LABELS);
    try (BertEncoder viaTuned =
        BertEncoder.load(classify.modelDir(base).tunedModelDir(tuned).build())) {
      float[][] probabilities = viaTuned.encode(TEXTS);
      ReferenceBert tunedReference =
          new ReferenceBert(TinyBert.CONFIG, TinyBert.weights(TinyBert.CONFIG, 2, LABELS, ""), "");
      List<InputFeatures> rows = viaTuned.featurizer().featurize(TEXTS, false).rows();
      for (int r = 0; r < rows.size(); r++) {
        assertClose(
            head(
                tunedReference.pooled(rows.get(r)),
                TinyBert.weights(TinyBert.CONFIG, 2, LABELS, ""),
                true),
            probabilities[r],
            "fine-tuned row " + r);
      }
    }
  }

  @Test
  void modelProblemsNameTheFileTensorAndFlag() throws IOException {
    Path broken = TinyBert.writeGoogleFolder(tmp.resolve("broken"), TinyBert.CONFIG, SEED, 0);
    Files.delete(broken.resolve("vocab.txt"));
    assertMessage(
        () -> BertEncoder.load(settings().modelDir(broken).build()),
        broken.resolve("vocab.txt") + " not found (set by -model_dir)");
    assertMessage(
        () -> BertEncoder.load(settings().modelDir(tmp.resolve("nowhere")).build()),
        "does not exist (set by -model_dir)");
    assertMessage(
        () -> BertEncoder.load(settings().ckptName("other.ckpt").build()),
        "other.ckpt.index not found (set by -model_dir and -ckpt_name)");
    Path mismatched = TinyBert.writeGoogleFolder(tmp.resolve("mismatch"), TinyBert.CONFIG, SEED, 0);
    new BertConfig(TinyBert.VOCAB.size(), 32, 3, 4, 64, "gelu", 64, 2)
        .write(mismatched.resolve("bert_config.json"));
    assertMessage(
        () -> BertEncoder.load(settings().modelDir(mismatched).poolingLayers(List.of(-1)).build()),
        "has no tensor 'bert/encoder/layer_2/attention/self/query/kernel'");
    assertMessage(
        () -> BertEncoder.load(settings().maxSeqLen(65).build()),
        "-max_seq_len 65 exceeds the model's max_position_embeddings 64");
    assertMessage(
        () -> BertEncoder.load(settings().poolingLayers(List.of(-3)).build()),
        "-pooling_layer -3 is out of range");
    Path noHead = TinyBert.writeGoogleFolder(tmp.resolve("no-head"), TinyBert.CONFIG, SEED, 0);
    assertMessage(
        () ->
            BertEncoder.load(
                settings()
                    .modelDir(noHead)
                    .poolingStrategy(PoolingStrategy.CLASSIFICATION)
                    .build()),
        "has no tensor 'output_weights'");
  }

  // ---- plain-Java pooling, written from bert-as-service's graph.py ----------------------------

  /** The strategies {@link #pool} computes besides the mean: over the tokens or at one token. */
  static final List<PoolingStrategy> OTHER_POOLINGS =
      List.of(
          PoolingStrategy.REDUCE_MAX,
          PoolingStrategy.REDUCE_MEAN_MAX,
          PoolingStrategy.FIRST_TOKEN,
          PoolingStrategy.LAST_TOKEN);

  static double[] pool(PoolingStrategy strategy, double[][] states, int[] mask) {
    int dim = states[0].length;
    double[] mean = new double[dim];
    double[] max = new double[dim];
    java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
    double count = 0;
    for (int t = 0; t < states.length; t++) {
      count += mask[t];
      for (int d = 0; d < dim; d++) {
        mean[d] += states[t][d] * mask[t];
        max[d] = Math.max(max[d], states[t][d] - (1 - mask[t]) * 1e30);
      }
    }
    for (int d = 0; d < dim; d++) {
      mean[d] /= count + 1e-10;
    }
    switch (strategy) {
      case REDUCE_MEAN:
        return mean;
      case REDUCE_MAX:
        return max;
      case REDUCE_MEAN_MAX:
        double[] both = java.util.Arrays.copyOf(mean, 2 * dim);
        System.arraycopy(max, 0, both, dim, dim);
        return both;
      case FIRST_TOKEN:
        return states[0];
      case LAST_TOKEN:
        return states[states.length - 1];
      default:
        throw new IllegalArgumentException(strategy.name());
    }
  }

  static double[] head(double[] pooled, Map<String, Tensor> w, boolean softmax) {
    Tensor weights = w.get("output_weights");
    int labels = (int) weights.shape()[0];
    double[] logits = new double[labels];
    for (int l = 0; l < labels; l++) {
      logits[l] = w.get("output_bias").values()[l];
      for (int d = 0; d < pooled.length; d++) {
        logits[l] += pooled[d] * weights.values()[l * pooled.length + d];
      }
    }
    if (softmax) {
      double sum = 0;
      for (double v : logits) {
        sum += Math.exp(v);
      }
      for (int l = 0; l < labels; l++) {
        logits[l] = Math.exp(logits[l]) / sum;
      }
    } else {
      for (int l = 0; l < labels; l++) {
        logits[l] = 1 / (1 + Math.exp(-logits[l]));
      }
    }
    return logits;
  }

  static double[][] concat(List<double[][]> layers, List<Integer> indices) {
    int count = layers.size();
    int t = layers.get(0).length;
    int h = layers.get(0)[0].length;
    double[][] out = new double[t][h * indices.size()];
    for (int i = 0; i < indices.size(); i++) {
      int layer = indices.get(i) < 0 ? count + indices.get(i) : indices.get(i);
      for (int p = 0; p < t; p++) {
        System.arraycopy(layers.get(layer)[p], 0, out[p], i * h, h);
      }
    }
    return out;
  }

  static double[][] masked(double[][] states, InputFeatures row) {
    double[][] out = new double[states.length][];
    for (int t = 0; t < states.length; t++) {
      out[t] = states[t].clone();
      for (int d = 0; d < out[t].length; d++) {
        out[t][d] *= row.inputMask()[t];
      }
    }
    return out;
  }

  static double[] flatten(double[][] m) {
    double[] out = new double[m.length * m[0].length];
    for (int t = 0; t < m.length; t++) {
      System.arraycopy(m[t], 0, out, t * m[0].length, m[0].length);
    }
    return out;
  }

  static double[] toDouble(float[] v) {
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i];
    }
    return out;
  }

  static int[] pad(int[] v) {
    return java.util.Arrays.copyOf(v, 16);
  }

  static void assertClose(double[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      double diff = Math.abs(expected[i] - actual[i]);
      assertTrue(
          diff <= TOLERANCE * Math.max(1, Math.abs(expected[i])),
          what + ": component " + i + " expected " + expected[i] + " but was " + actual[i]);
    }
  }

  static void assertMessage(org.junit.jupiter.api.function.Executable call, String fragment) {
    Throwable e = assertThrows(RuntimeException.class, call);
    assertTrue(
        e.getMessage().contains(fragment),
        "expected a message containing '" + fragment + "' but got: " + e.getMessage());
  }
}

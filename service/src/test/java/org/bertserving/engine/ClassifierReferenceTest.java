package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bertserving.engine.TinyBert.Tensor;
import org.bertserving.engine.hf.HfWeights;
import org.bertserving.engine.hf.OnnxModel;
import org.bertserving.engine.hf.StoredTensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A cross-encoder (one label) and a classifier (three labels) built from all-MiniLM-L6-v2's real
 * encoder weights with seeded pooler and heads, saved as safetensors and as ONNX: the engine's
 * logits, and the sigmoid / softmax scores the routes give, equal ONNX Runtime's on the ONNX file
 * within 1e-4, fed the same pairs ({@code [CLS] query [SEP] document [SEP]}, segment ids 0 then 1,
 * cut longest-first). The pairs' ids equal Hugging Face's own tokenizer's where no cut is needed.
 */
class ClassifierReferenceTest {
  private static final double MAX_ABS = 1e-4;
  private static final int MAX_SEQ_LEN = 48;

  @TempDir static Path tmp;

  @BeforeAll
  static void offline() {
    System.setProperty("ai.djl.offline", "true");
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void logitsAndScoresEqualOnnxRuntime(int labelCount) throws Exception {
    List<String> labels =
        labelCount == 1 ? List.of("LABEL_0") : List.of("negative", "neutral", "positive");
    Path source = NamedModel.ALL_MINILM_L6_V2.unpacked();
    Path st = tmp.resolve(labelCount + "-safetensors");
    Path ox = tmp.resolve(labelCount + "-onnx");
    build(source, labels, 7 + labelCount, st, ox);
    List<Object> pairs = pairs();
    OrtEnvironment env = OrtEnvironment.getEnvironment(); // the process's one, never closed
    try (OrtSession reference =
            env.createSession(
                ox.resolve("model.onnx").toString(), new OrtSession.SessionOptions());
        HuggingFaceTokenizer hf =
            HuggingFaceTokenizer.builder()
                .optTokenizerPath(source.resolve("tokenizer.json"))
                .optTruncation(false)
                .optPadding(false)
                .build()) {
      for (Path folder : List.of(st, ox)) {
        // the three labels' ONNX folder as served (sessions by run size); the others on one
        // session, as the head and the weights are what differ (each load's probes cost 10 s)
        EngineSettings settings =
            EngineSettings.builder()
                .modelDir(folder)
                .maxSeqLen(MAX_SEQ_LEN)
                .sizedSessions(labelCount == 3 && folder.equals(ox))
                .build();
        assertEquals(PoolingStrategy.LOGITS, settings.poolingStrategy());
        assertEquals(labels, settings.labels());
        assertEquals(
            labelCount == 1 ? ModelKind.RERANK : ModelKind.CLASSIFY, settings.kind(), "kind");
        try (BertEncoder engine = BertEncoder.load(settings)) {
          float[][] ours = engine.encode(pairs, false).matrix();
          List<InputFeatures> rows = engine.featurizer().featurize(pairs, false).rows();
          double maxLogit = 0;
          double maxScore = 0;
          int compared = 0;
          for (int i = 0; i < pairs.size(); i++) {
            InputFeatures row = rows.get(i);
            checkIds(hf, (Map<?, ?>) pairs.get(i), row);
            compared += row.length() == MAX_SEQ_LEN ? 1 : 0;
            float[] expected = logits(env, reference, row);
            assertEquals(labelCount, ours[i].length);
            double[] probabilities = probabilities(expected);
            float[] scores = Scores.of(ours[i], false);
            for (int l = 0; l < labelCount; l++) {
              maxLogit = Math.max(maxLogit, Math.abs(expected[l] - ours[i][l]));
              maxScore = Math.max(maxScore, Math.abs(probabilities[l] - scores[l]));
            }
          }
          System.out.printf(
              "%s: %d pairs (%d cut to %d), max |logit diff| %.2e, max |score diff| %.2e%n",
              folder.getFileName(), pairs.size(), compared, MAX_SEQ_LEN, maxLogit, maxScore);
          assertTrue(compared > 0, "some pairs are long enough to be cut");
          assertTrue(maxLogit < MAX_ABS, folder + " logits off by " + maxLogit);
          assertTrue(maxScore < MAX_ABS, folder + " scores off by " + maxScore);
        }
      }
    }
  }

  /** Queries against documents of every length, some past max_seq_len on either side. */
  private static List<Object> pairs() {
    List<String> texts = ModernTexts.all();
    List<Object> pairs = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      pairs.add(Featurizer.pair(texts.get(i), texts.get(texts.size() - 1 - i)));
    }
    return pairs;
  }

  /**
   * Uncut pairs: the ids and segment ids of Hugging Face's tokenizer. Cut ones: Google's
   * longest-first (the longer side loses its last token, the second on a tie).
   */
  private static void checkIds(HuggingFaceTokenizer hf, Map<?, ?> pair, InputFeatures row) {
    Encoding e = hf.encode((String) pair.get("text"), (String) pair.get("text_pair"));
    long[] segments = e.getTypeIds();
    int firstLength = 0;
    for (long s : segments) {
      firstLength += s == 0 ? 1 : 0;
    }
    if (e.getIds().length <= MAX_SEQ_LEN) {
      assertArrayEquals(e.getIds(), toLong(row.inputIds()), "ids of " + pair);
      assertArrayEquals(segments, toLong(row.segmentIds()), "segment ids of " + pair);
      return;
    }
    int a = firstLength - 2;
    int b = e.getIds().length - firstLength - 1;
    while (a + b > MAX_SEQ_LEN - 3) {
      if (a > b) {
        a--;
      } else {
        b--;
      }
    }
    int ourA = 0;
    for (int s : row.segmentIds()) {
      ourA += s == 0 ? 1 : 0;
    }
    assertEquals(a + 2, ourA, "first side of the cut pair " + pair);
    assertEquals(MAX_SEQ_LEN, row.length());
  }

  /** ONNX Runtime on one unpadded row. */
  private static float[] logits(OrtEnvironment env, OrtSession session, InputFeatures row)
      throws OrtException {
    long[] shape = {1, row.length()};
    try (OnnxTensor ids =
            OnnxTensor.createTensor(env, LongBuffer.wrap(toLong(row.inputIds())), shape);
        OnnxTensor mask =
            OnnxTensor.createTensor(env, LongBuffer.wrap(toLong(row.inputMask())), shape);
        OnnxTensor types =
            OnnxTensor.createTensor(env, LongBuffer.wrap(toLong(row.segmentIds())), shape);
        OrtSession.Result result =
            session.run(
                Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types),
                java.util.Set.of("logits"))) {
      return ((float[][]) result.get("logits").orElseThrow().getValue())[0];
    }
  }

  /** Sigmoid of one logit, softmax of several, in double. */
  private static double[] probabilities(float[] logits) {
    double[] out = new double[logits.length];
    if (logits.length == 1) {
      out[0] = 1 / (1 + Math.exp(-logits[0]));
      return out;
    }
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      out[i] = Math.exp(logits[i]);
      sum += out[i];
    }
    for (int i = 0; i < out.length; i++) {
      out[i] /= sum;
    }
    return out;
  }

  /** The encoder of {@code source}'s ONNX file plus a seeded head, in both formats. */
  static void build(Path source, List<String> labels, long seed, Path st, Path ox)
      throws IOException, OrtException {
    Path file = source.resolve("model.onnx");
    OnnxModel onnx = OnnxModel.read(file);
    Map<String, StoredTensor> stored = onnx.tensorsByModuleName();
    BertConfig config = HfWeights.of(file, stored, null, onnx).config();
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    stored.forEach(
        (name, t) -> {
          if (t.dtype().equals("F32") && t.shape().length > 0 && t.data() != null) {
            float[] v = new float[(int) t.elements()];
            t.data().duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            Tensor tensor = new Tensor(t.shape(), v);
            tensors.put(name, t.kernelLayout() ? TinyHuggingFace.transpose(tensor) : tensor);
          }
        });
    String anchor =
        stored.keySet().stream()
            .filter(k -> k.endsWith("embeddings.word_embeddings.weight"))
            .findFirst()
            .orElseThrow();
    String prefix = anchor.substring(0, anchor.indexOf("embeddings."));
    Map<String, Tensor> head = Classifiers.head(config.hiddenSize(), labels.size(), seed, prefix);
    tensors.putAll(head);
    Classifiers.safetensors(st, config, tensors, labels);
    Files.copy(source.resolve("tokenizer.json"), st.resolve("tokenizer.json"));
    String hidden;
    try (OrtSession s =
        OrtEnvironment.getEnvironment()
            .createSession(file.toString(), new OrtSession.SessionOptions())) {
      hidden = s.getOutputNames().iterator().next();
    }
    Classifiers.onnx(file, ox.resolve("model.onnx"), hidden, head);
    Classifiers.config(ox, config, labels);
    Files.copy(source.resolve("tokenizer.json"), ox.resolve("tokenizer.json"));
  }

  static long[] toLong(int[] values) {
    return ModernModelReferenceTest.toLong(values);
  }
}

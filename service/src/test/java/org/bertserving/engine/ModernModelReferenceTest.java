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
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each named sentence-embedding model, at its own defaults, reproduces what ONNX Runtime computes
 * from the same ONNX file with that model's own pooling (mean over the mask, or CLS for BGE) and L2
 * normalization, and its token ids are those of Hugging Face's own tokenizers (DJL's binding,
 * loaded offline from the model's {@code tokenizer.json}, truncating at the model's {@code
 * max_seq_length}, not at the file's own 128).
 */
class ModernModelReferenceTest {
  static final double MIN_COSINE = 0.9999;
  static final double MAX_ABS = 1e-4;

  @BeforeAll
  static void offline() {
    System.setProperty("ai.djl.offline", "true"); // DJL must not reach for a hub
  }

  /**
   * Each model with its products on the kernel this CPU measures faster (all-MiniLM-L6-v2 on its
   * sessions by run size, as served), and all-MiniLM-L6-v2 with each kernel ({@link ProductKernel})
   * whatever the CPU, on one session.
   */
  static Stream<Arguments> servedModels() {
    return Stream.of(
        Arguments.of(NamedModel.ALL_MINILM_L6_V2, ProductKernel.MEASURED),
        Arguments.of(NamedModel.BGE_SMALL_EN_V15, ProductKernel.MEASURED),
        Arguments.of(NamedModel.E5_SMALL_V2, ProductKernel.MEASURED),
        Arguments.of(NamedModel.ALL_MINILM_L6_V2, ProductKernel.FUSED),
        Arguments.of(NamedModel.ALL_MINILM_L6_V2, ProductKernel.PLAIN));
  }

  @ParameterizedTest
  @MethodSource("servedModels")
  void vectorsAndIdsEqualOnnxRuntimeAndHuggingFaceTokenizers(
      NamedModel model, ProductKernel products) throws IOException, OrtException {
    List<String> texts = ModernTexts.all();
    assertTrue(texts.size() >= 50);
    EngineSettings settings =
        EngineSettings.builder()
            .model(model.modelName())
            .products(products)
            // all-MiniLM-L6-v2 as served (sessions by run size); the other models' weights,
            // pooling and ids on one session, as is a kernel asked for: each model's sessions by
            // run size cost its load 10-12 s of probes (their graphs are held to one session's
            // vectors in SizedSessionsTest, SplitLayersTest and ParallelRunsTest)
            .sizedSessions(
                products == ProductKernel.MEASURED && model == NamedModel.ALL_MINILM_L6_V2)
            .build();
    assertEquals(model.defaults().maxSeqLen(), settings.maxSeqLen());
    Path dir = model.unpacked();
    // the model's own pooling as its sentence-transformers config says, not as ours derives it
    PoolingStrategy own =
        model == NamedModel.BGE_SMALL_EN_V15
            ? PoolingStrategy.FIRST_TOKEN
            : PoolingStrategy.REDUCE_MEAN;
    try (BertEncoder engine = BertEncoder.load(settings);
        Reference reference = new Reference(dir, settings.maxSeqLen(), own)) {
      float[][] ours = engine.encode(texts);
      List<InputFeatures> rows = engine.featurizer().featurize(texts, false).rows();
      double minCosine = 1;
      double maxAbs = 0;
      for (int i = 0; i < texts.size(); i++) {
        long[] ids = reference.ids(texts.get(i));
        assertArrayEquals(
            ids,
            toLong(rows.get(i).inputIds()),
            model + " ids of text " + i + " " + rows.get(i).tokens());
        float[] expected = reference.vector(ids);
        double[] cmp = compare(expected, ours[i]);
        minCosine = Math.min(minCosine, cmp[0]);
        maxAbs = Math.max(maxAbs, cmp[1]);
      }
      System.out.printf(
          "%s, %s products: %d texts, min cosine %.8f, max abs difference %.2e%n",
          model.modelName(), products, texts.size(), minCosine, maxAbs);
      assertTrue(minCosine > MIN_COSINE, model + ", " + products + ": min cosine " + minCosine);
      assertTrue(maxAbs < MAX_ABS, model + ", " + products + ": max abs difference " + maxAbs);
    }
  }

  /**
   * Each named model brings sentence-transformers' defaults (the Google BERTs bert-as-service's),
   * written out here as the model cards give them, so that a wrong default cannot hide behind a
   * reference that reads the same default.
   */
  @org.junit.jupiter.api.Test
  void eachNamedModelBringsItsOwnDefaults() {
    record Expected(
        String name, PoolingStrategy pooling, List<Integer> layers, int maxSeqLen, boolean norm) {}
    Map<NamedModel, Expected> expected =
        Map.of(
            NamedModel.ALL_MINILM_L6_V2,
            new Expected("all-minilm-l6-v2", PoolingStrategy.REDUCE_MEAN, List.of(-1), 256, true),
            NamedModel.BGE_SMALL_EN_V15,
            new Expected("bge-small-en-v1.5", PoolingStrategy.FIRST_TOKEN, List.of(-1), 512, true),
            NamedModel.E5_SMALL_V2,
            new Expected("e5-small-v2", PoolingStrategy.REDUCE_MEAN, List.of(-1), 512, true),
            NamedModel.BERT_BASE_UNCASED,
            new Expected("bert-base-uncased", PoolingStrategy.REDUCE_MEAN, List.of(-2), 25, false),
            NamedModel.BERT_BASE_CASED,
            new Expected("bert-base-cased", PoolingStrategy.REDUCE_MEAN, List.of(-2), 25, false),
            NamedModel.BERT_BASE_MULTILINGUAL_CASED,
            new Expected(
                "bert-base-multilingual-cased",
                PoolingStrategy.REDUCE_MEAN,
                List.of(-2),
                25,
                false));
    assertEquals(NamedModel.values().length, expected.size(), "every named model is listed");
    expected.forEach(
        (model, want) -> {
          EngineSettings s = EngineSettings.builder().model(want.name()).build();
          assertEquals(want.pooling(), s.poolingStrategy(), model + " pooling");
          assertEquals(want.layers(), s.poolingLayers(), model + " layer");
          assertEquals(want.maxSeqLen(), (int) s.maxSeqLen(), model + " max_seq_len");
          assertEquals(want.norm(), s.normalize(), model + " normalize");
          assertEquals(want.name(), s.modelName(), model + " name");
          assertEquals(model, NamedModel.of(want.name()), want.name());
        });
    // flags win over the model's defaults
    EngineSettings overridden =
        EngineSettings.builder()
            .model("e5-small-v2")
            .maxSeqLen(64)
            .normalize(false)
            .poolingStrategy(PoolingStrategy.REDUCE_MAX)
            .build();
    assertEquals(64, overridden.maxSeqLen());
    assertEquals(false, overridden.normalize());
    assertEquals(PoolingStrategy.REDUCE_MAX, overridden.poolingStrategy());
  }

  /** Hugging Face's tokenizer and ONNX Runtime on the same files, one text at a time, unpadded. */
  static final class Reference implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final PoolingStrategy pooling;

    Reference(Path dir, int maxLength, PoolingStrategy pooling) throws IOException, OrtException {
      this.tokenizer =
          HuggingFaceTokenizer.builder()
              .optTokenizerPath(dir.resolve("tokenizer.json"))
              .optMaxLength(maxLength)
              .optTruncation(true)
              .optPadding(false)
              .build();
      this.session =
          env.createSession(dir.resolve("model.onnx").toString(), new OrtSession.SessionOptions());
      this.pooling = pooling;
    }

    long[] ids(String text) {
      Encoding e = tokenizer.encode(text);
      return e.getIds();
    }

    /** sentence-transformers: pool the last hidden state over the mask, then L2-normalize. */
    float[] vector(long[] ids) throws OrtException {
      float[][] hidden = hidden(ids);
      double[] pooled = new double[hidden[0].length];
      for (int t = 0; t < hidden.length; t++) {
        for (int d = 0; d < pooled.length; d++) {
          if (pooling == PoolingStrategy.FIRST_TOKEN) {
            pooled[d] = t == 0 ? hidden[t][d] : pooled[d];
          } else {
            pooled[d] += hidden[t][d] / (double) hidden.length;
          }
        }
      }
      double norm = 0;
      for (double v : pooled) {
        norm += v * v;
      }
      float[] out = new float[pooled.length];
      for (int d = 0; d < out.length; d++) {
        out[d] = (float) (pooled[d] / Math.sqrt(norm));
      }
      return out;
    }

    /** The last hidden state, {@code [T, H]}. */
    float[][] hidden(long[] ids) throws OrtException {
      long[] shape = {1, ids.length};
      long[] ones = new long[ids.length];
      java.util.Arrays.fill(ones, 1);
      try (OnnxTensor inputIds = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
          OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(ones), shape);
          OnnxTensor types =
              OnnxTensor.createTensor(env, LongBuffer.wrap(new long[ids.length]), shape);
          OrtSession.Result result =
              session.run(
                  Map.of("input_ids", inputIds, "attention_mask", mask, "token_type_ids", types))) {
        return ((float[][][]) result.get(0).getValue())[0];
      }
    }

    @Override
    public void close() throws OrtException {
      session.close();
      tokenizer.close();
    }
  }

  /** {cosine, max abs difference}. */
  static double[] compare(float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length);
    return new double[] {
      Vectors.cosine(expected, actual), Vectors.maxAbsDifference(expected, actual)
    };
  }

  static long[] toLong(int[] ids) {
    long[] out = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = ids[i];
    }
    return out;
  }
}

package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The default model (Google's BERT-Base Uncased, resolved by Maven) at bert-as-service's defaults
 * reproduces the vectors that Google's own graph produced ({@code embeddings_public.json}).
 */
public class DefaultModelFixtureTest {
  static JsonNode cases;
  static List<String> texts = new ArrayList<>();

  @BeforeAll
  static void readFixture() throws IOException {
    JsonNode root = new ObjectMapper().readTree(Fixtures.file("embeddings_public.json").toFile());
    assertEquals(25, root.get("max_seq_len").asInt());
    cases = root.get("cases");
    cases.forEach(c -> texts.add(c.get("text").asText()));
    assertEquals(24, texts.size());
  }

  @Test
  void defaultsReproduceGooglesSentenceVectors() throws IOException {
    try (BertEncoder encoder = BertEncoder.load(EngineSettings.builder().build())) {
      List<InputFeatures> rows = encoder.featurizer().featurize(texts, false).rows();
      float[][] vectors = encoder.encode(texts);
      for (int i = 0; i < texts.size(); i++) {
        JsonNode c = cases.get(i);
        assertArrayEquals(ints(c.get("input_ids")), rows.get(i).inputIds(), "ids of case " + i);
        assertMatches(floats(c.get("embedding")), vectors[i], "embedding of case " + i);
      }
    }
  }

  /**
   * With each kernel for the products ({@link ProductKernel}), whichever this CPU would measure
   * faster.
   */
  @ParameterizedTest
  @EnumSource(
      value = ProductKernel.class,
      names = {"FUSED", "PLAIN"})
  void lastLayerClsMatchesGooglesFinalLayer(ProductKernel products) throws IOException {
    EngineSettings settings =
        EngineSettings.builder()
            .poolingStrategy(PoolingStrategy.FIRST_TOKEN)
            .poolingLayers(List.of(-1))
            .sizedSessions(false) // the graph against Google's; the defaults above are as served
            .products(products)
            .build();
    try (BertEncoder encoder = BertEncoder.load(settings)) {
      float[][] vectors = encoder.encode(texts);
      for (int i = 0; i < texts.size(); i++) {
        assertMatches(
            floats(cases.get(i).get("last_layer_cls")), vectors[i], products + " CLS of case " + i);
      }
    }
  }

  /** The fixture's own bar: cosine above 0.99999 and every component within 1e-3. */
  public static void assertMatches(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what);
    double cosine = Vectors.cosine(expected, actual);
    double maxAbs = Vectors.maxAbsDifference(expected, actual);
    assertTrue(cosine > 0.99999, what + ": cosine " + cosine);
    assertTrue(maxAbs < 1e-3, what + ": max abs difference " + maxAbs);
  }

  static float[] floats(JsonNode array) {
    float[] out = new float[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) array.get(i).asDouble();
    }
    return out;
  }

  static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }
}

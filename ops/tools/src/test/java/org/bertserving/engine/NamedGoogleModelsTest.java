package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.bertserving.tools.GoogleGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code -model bert-base-cased} and {@code -model bert-base-multilingual-cased}: fetched by the
 * build like the default model, served with bert-as-service's defaults and a cased tokenizer, and
 * the engine's graph finds the same final layer as Google's own graph from the same SavedModel.
 */
class NamedGoogleModelsTest {

  @ParameterizedTest
  @EnumSource(
      value = NamedModel.class,
      names = {"BERT_BASE_CASED", "BERT_BASE_MULTILINGUAL_CASED"})
  void casedGoogleModelsEqualGooglesOwnGraph(NamedModel model) throws IOException {
    EngineSettings defaults = EngineSettings.builder().model(model.modelName()).build();
    assertEquals(
        ModelDefaults.BERT_AS_SERVICE,
        new ModelDefaults(
            defaults.maxSeqLen(),
            defaults.poolingLayers(),
            defaults.poolingStrategy(),
            defaults.normalize()));
    List<String> texts =
        List.of(
            "Hello World from Paris",
            "naïve Café in São Paulo",
            "深度学习 and 東京 ||| 한국어 문장",
            "The quick brown Fox jumps over the lazy Dog. ".repeat(8));
    EngineSettings settings =
        defaults.toBuilder()
            .maxSeqLen(64)
            .poolingStrategy(PoolingStrategy.NONE)
            .poolingLayers(List.of(-1))
            .build();
    try (BertEncoder encoder = BertEncoder.load(settings);
        GoogleGraph google = new GoogleGraph(model.unpacked(), 0)) {
      List<InputFeatures> rows = encoder.featurizer().featurize(texts, false).rows();
      assertTrue(rows.get(0).tokens().contains("Hello"), "cased: " + rows.get(0).tokens());
      assertTrue(
          String.join(" ", rows.get(1).tokens()).contains("Caf"), rows.get(1).tokens().toString());
      assertEquals(64, rows.get(3).length(), "truncated to max_seq_len");
      EncodedRows ours = encoder.encode(texts, false);
      GoogleGraphEquivalenceTest.assertSameFinalLayer(
          google, rows, 64, ours, encoder.config().hiddenSize(), model + " ");
    }
  }
}

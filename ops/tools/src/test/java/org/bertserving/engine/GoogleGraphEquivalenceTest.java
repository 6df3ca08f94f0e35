package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.bertserving.tools.GoogleGraph;
import org.junit.jupiter.api.Test;

/**
 * The engine's Java-built graph and Google's own graph from the SavedModel find the same final
 * layer on longer inputs: up to 128 tokens, several rows of mixed lengths, sentence pairs.
 */
class GoogleGraphEquivalenceTest {

  static List<String> mixedLengthTexts() {
    String base =
        "The quick brown fox jumps over the lazy dog while the cat, unimpressed, "
            + "watches from the window and wonders why anyone would run at all. ";
    List<String> texts = new ArrayList<>();
    texts.add("hello world");
    texts.add(base.repeat(6));
    texts.add("Is this jacksonville? ||| No, it is not.");
    texts.add(base.repeat(2));
    texts.add("深度学习 and naïve café résumés");
    texts.add(base);
    return texts;
  }

  @Test
  void finalLayerEqualsGooglesGraphUpTo128Tokens() throws IOException {
    EngineSettings settings =
        EngineSettings.builder()
            .maxSeqLen(128)
            .poolingStrategy(PoolingStrategy.NONE)
            .poolingLayers(List.of(-1))
            .build();
    List<String> texts = mixedLengthTexts();
    try (BertEncoder encoder = BertEncoder.load(settings);
        GoogleGraph google = new GoogleGraph(DefaultModel.unpacked(), 0)) {
      EncodedRows ours = encoder.encode(texts, false);
      List<InputFeatures> rows = encoder.featurizer().featurize(texts, false).rows();
      assertEquals(
          128,
          rows.stream().mapToInt(InputFeatures::length).max().orElseThrow(),
          "the longest text is truncated to 128 tokens");
      assertSameFinalLayer(google, rows, 128, ours, encoder.config().hiddenSize(), "");
    }
  }

  /** Every token of {@code ours} as Google's graph computes it, by the fixtures' own bar. */
  static void assertSameFinalLayer(
      GoogleGraph google,
      List<InputFeatures> rows,
      int maxSeqLen,
      EncodedRows ours,
      int hidden,
      String what) {
    float[] reference = google.sequenceOutput(rows, maxSeqLen);
    for (int r = 0; r < rows.size(); r++) {
      for (int t = 0; t < rows.get(r).length(); t++) {
        float[] expected = new float[hidden];
        float[] actual = new float[hidden];
        System.arraycopy(reference, (r * maxSeqLen + t) * hidden, expected, 0, hidden);
        System.arraycopy(ours.rows().get(r), t * hidden, actual, 0, hidden);
        DefaultModelFixtureTest.assertMatches(expected, actual, what + "row " + r + " token " + t);
      }
    }
  }
}

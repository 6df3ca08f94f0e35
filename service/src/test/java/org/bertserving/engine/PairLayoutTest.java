package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.bertserving.engine.tokenizer.FullTokenizer;
import org.bertserving.engine.tokenizer.TokenizerJson;
import org.junit.jupiter.api.Test;

/**
 * A sentence pair as rerankers and classifiers get it ({@code {"text", "text_pair"}}) is laid out
 * as Hugging Face's tokenizers lay it out (DJL's binding, offline), so a cross-encoder scores what
 * sentence-transformers would, even when the second text tokenizes to nothing (zero-width or
 * control characters left by a PDF's extraction): {@code [CLS] a [SEP] [SEP]}, not the first text
 * alone, and an empty first or second text is a pair still. bert-as-service's {@code "a ||| "}
 * keeps Google's layout, the first text alone.
 */
class PairLayoutTest {
  @Test
  void aPairWhoseSecondTextTokenizesToNothingKeepsItsSecondSeparator() throws Exception {
    Path file = NamedModel.ALL_MINILM_L6_V2.unpacked().resolve("tokenizer.json");
    FullTokenizer tokenizer = TokenizerJson.read(file, null);
    Featurizer featurizer =
        new Featurizer(
            tokenizer,
            tokenizer.vocab(),
            EngineSettings.builder().modelDir(file.getParent()).build(),
            512);
    System.setProperty("ai.djl.offline", "true");
    try (HuggingFaceTokenizer theirs =
        HuggingFaceTokenizer.builder()
            .optTokenizerPath(file)
            .optTruncation(false)
            .optPadding(false)
            .build()) {
      for (String[] pair :
          new String[][] {
            {"what is a cat?", "\u200b"},
            {"what is a cat?", "\u0001\u0002"},
            {"a cat", "is small"},
            {"what is a cat?", ""},
            {"", "a cat"},
            {" ", "a cat"},
            {" ", ""}
          }) {
        Encoding expected = theirs.encode(pair[0], pair[1]);
        InputFeatures ours =
            featurizer.featurize(List.of(Featurizer.pair(pair[0], pair[1])), false).rows().get(0);
        String what = Arrays.toString(pair);
        assertEquals(Arrays.asList(expected.getTokens()), ours.tokens(), what);
        assertArrayEquals(
            Arrays.stream(expected.getIds()).mapToInt(Math::toIntExact).toArray(),
            ours.inputIds(),
            what);
        assertArrayEquals(
            Arrays.stream(expected.getTypeIds()).mapToInt(Math::toIntExact).toArray(),
            ours.segmentIds(),
            what);
      }
    }
    // a pair empty on both sides is refused, naming it
    InvalidInputException both =
        org.junit.jupiter.api.Assertions.assertThrows(
            InvalidInputException.class,
            () -> featurizer.featurize(List.of(Featurizer.pair("", "")), false));
    assertEquals("input 0: sentence pair is empty: text and text_pair both are", both.getMessage());
    // bert-as-service's own convention: "a ||| " is the first text alone, as Google's features
    InputFeatures legacy = featurizer.featurize(List.of("a cat ||| \u200b"), false).rows().get(0);
    assertEquals(List.of("[CLS]", "a", "cat", "[SEP]"), legacy.tokens());
  }
}

package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.bertserving.engine.TokenCodec.Token;
import org.bertserving.engine.tokenizer.FullTokenizer;
import org.bertserving.engine.tokenizer.HfTokenizers;
import org.bertserving.engine.tokenizer.TokenizerJson;
import org.junit.jupiter.api.Test;

/**
 * {@code /tokenize}'s offsets on a model whose {@code tokenizer.json} lists {@code [UNK]} among its
 * added tokens (all-MiniLM-L6-v2), against Hugging Face's own tokenizers (DJL's binding, offline):
 * a word the vocabulary cannot spell is an {@code [UNK]} with that word's offsets, and so is every
 * token after it; {@code [UNK]} written in the text is the special token.
 */
class TokenOffsetsTest {
  static final List<String> TEXTS =
      List.of(
          "a \ud83d\ude00 b",
          "snow \u2603 man and \ud83d\ude00\ud83d\ude00 twice, then words",
          "literal [UNK] and \ud83d\ude00 after it");

  @Test
  void offsetsAfterAWordTheVocabularyCannotSpellAreHuggingFaces() throws IOException {
    Path file = NamedModel.ALL_MINILM_L6_V2.unpacked().resolve("tokenizer.json");
    FullTokenizer ours = TokenizerJson.read(file, null);
    assertTrue(ours.addedTokens().contains("[UNK]"), "the case this test is about");
    try (HuggingFaceTokenizer theirs = HfTokenizers.open(file)) {
      for (String text : TEXTS) {
        Encoding expected = theirs.encode(text, false, false);
        List<String> tokens = ours.tokenize(text);
        assertEquals(Arrays.asList(expected.getTokens()), tokens, text);
        assertTrue(tokens.contains("[UNK]"), text);
        int[][] spans = ours.offsets(text, tokens);
        CharSpan[] spansExpected = expected.getCharTokenSpans();
        for (int i = 0; i < tokens.size(); i++) {
          String what = text + ", token " + i + " " + tokens.get(i);
          assertNotNull(spans[i], what);
          // Hugging Face counts characters (code points), Java UTF-16 units
          assertEquals(spansExpected[i].getStart(), text.codePointCount(0, spans[i][0]), what);
          assertEquals(spansExpected[i].getEnd(), text.codePointCount(0, spans[i][1]), what);
        }
      }
    }
    TokenCodec codec =
        new TokenCodec(
            ours, Prompts.of(EngineSettings.builder().modelDir(file.getParent()).build()));
    List<Token> emoji = codec.tokenize(TEXTS.get(0), false, CallOptions.DEFAULTS);
    assertEquals("\ud83d\ude00", emoji.get(1).text(), "the word, not [UNK]");
    assertFalse(emoji.get(1).special());
    assertEquals(2, emoji.get(1).start());
    assertEquals(6, emoji.get(1).stop(), "four bytes of UTF-8");
    assertEquals(7, emoji.get(2).start());
    List<Token> written = codec.tokenize(TEXTS.get(2), false, CallOptions.DEFAULTS);
    assertEquals("[UNK]", written.get(1).text());
    assertTrue(written.get(1).special(), "[UNK] written in the text is the special token");
    assertFalse(written.get(3).special(), "the emoji after it is not");
  }
}

package org.bertserving.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The rules of Google's tokenizer one by one, on a hand-written vocabulary. */
class TokenizerTest {
  private static final Vocab VOCAB =
      Vocab.of(
          List.of(
              "[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "runn", "##ing", ",",
              "!", "hello", "cafe", "café", "中", "国", "a"));

  @Test
  void greedyLongestMatchFirstWithContinuations() {
    WordpieceTokenizer w = new WordpieceTokenizer(VOCAB);
    assertEquals(
        List.of("un", "##aff", "##able", "runn", "##ing"), w.tokenize("unaffable running"));
    assertEquals(List.of("[UNK]", "runn"), w.tokenize("unaffablex runn"), "unsplittable word");
    assertEquals(List.of("[UNK]"), w.tokenize("a".repeat(201)), "over 200 characters");
  }

  @Test
  void punctuationCjkAndWhitespace() {
    FullTokenizer t = new FullTokenizer(VOCAB, true);
    assertEquals(List.of("hello", ",", "hello", "!"), t.tokenize(" hello,\thello!\u2028"));
    assertEquals(List.of("中", "国", "a"), t.tokenize("中国a"));
    assertEquals(List.of("hello"), t.tokenize("hel\u0000\u200blo"), "control and format removed");
  }

  @Test
  void accentsAreStrippedOnlyWhenLowerCasing() {
    assertEquals(List.of("cafe"), new FullTokenizer(VOCAB, true).tokenize("CAFÉ"));
    assertEquals(List.of("café"), new FullTokenizer(VOCAB, false).tokenize("café"));
    assertEquals(List.of("[UNK]"), new FullTokenizer(VOCAB, false).tokenize("CAFÉ"));
  }
}

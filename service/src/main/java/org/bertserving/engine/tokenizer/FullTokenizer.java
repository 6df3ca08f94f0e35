package org.bertserving.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Google's {@code FullTokenizer}: basic tokenization, then word pieces. With added tokens (a {@code
 * tokenizer.json}'s special tokens), as Hugging Face's tokenizers: those are cut out of the raw
 * text first and kept whole, so that a literal {@code [SEP]} in a text stays one token.
 * Thread-safe.
 */
public final class FullTokenizer {
  private final Vocab vocab;
  private final BasicTokenizer basic;
  private final WordpieceTokenizer wordpiece;
  private final List<String> addedTokens;

  public FullTokenizer(Vocab vocab, boolean doLowerCase) {
    this(vocab, new BasicTokenizer(doLowerCase), new WordpieceTokenizer(vocab), List.of());
  }

  public FullTokenizer(
      Vocab vocab, BasicTokenizer basic, WordpieceTokenizer wordpiece, List<String> addedTokens) {
    this.vocab = vocab;
    this.basic = basic;
    this.wordpiece = wordpiece;
    this.addedTokens = List.copyOf(addedTokens);
  }

  public List<String> tokenize(String text) {
    List<String> out = new ArrayList<>();
    int start = 0;
    while (start < text.length()) {
      int[] match = nextAddedToken(text, start);
      int end = match == null ? text.length() : match[0];
      for (String token : basic.tokenize(text.substring(start, end))) {
        wordpiece.tokenizeWord(token, out);
      }
      if (match == null) {
        break;
      }
      out.add(addedTokens.get(match[1]));
      start = end + addedTokens.get(match[1]).length();
    }
    return out;
  }

  /**
   * The earliest added token at or after {@code from} (the longest one there): {position, index}.
   */
  private int[] nextAddedToken(String text, int from) {
    int[] best = null;
    for (int i = 0; i < addedTokens.size(); i++) {
      int at = text.indexOf(addedTokens.get(i), from);
      if (at >= 0
          && (best == null
              || at < best[0]
              || (at == best[0]
                  && addedTokens.get(i).length() > addedTokens.get(best[1]).length()))) {
        best = new int[] {at, i};
      }
    }
    return best;
  }

  /**
   * Where each of {@code tokens} (this tokenizer's tokens of {@code text}) came from in {@code
   * text}: {@code [start, end)} in UTF-16 units, or {@code null} where that cannot be told.
   */
  public int[][] offsets(String text, List<String> tokens) {
    return new TokenOffsets(basic.normalization(), wordpiece.continuation(), addedTokens)
        .align(text, tokens);
  }

  /** Tokens kept whole, never split ({@code tokenizer.json}'s added tokens, e.g. {@code [SEP]}). */
  public List<String> addedTokens() {
    return addedTokens;
  }

  public int[] convertTokensToIds(List<String> tokens) {
    int[] ids = new int[tokens.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = vocab.id(tokens.get(i));
    }
    return ids;
  }

  public Vocab vocab() {
    return vocab;
  }
}

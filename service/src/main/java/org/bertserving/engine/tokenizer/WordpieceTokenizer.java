package org.bertserving.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Google's {@code WordpieceTokenizer}: greedy longest-match-first over the vocabulary, with {@code
 * ##} marking a continuation; {@code [UNK]} for a word that cannot be split or is longer than 200
 * characters (Google's default, which the reference fixtures confirm; Hugging Face's {@code
 * tokenizer.json} files say 100).
 */
public final class WordpieceTokenizer {
  static final int MAX_INPUT_CHARS_PER_WORD = 200;

  private final Vocab vocab;
  private final int maxInputCharsPerWord;
  private final String continuation;

  public WordpieceTokenizer(Vocab vocab) {
    this(vocab, MAX_INPUT_CHARS_PER_WORD, "##");
  }

  public WordpieceTokenizer(Vocab vocab, int maxInputCharsPerWord, String continuation) {
    this.vocab = vocab;
    this.maxInputCharsPerWord = maxInputCharsPerWord;
    this.continuation = continuation;
  }

  String continuation() {
    return continuation;
  }

  public List<String> tokenize(String text) {
    List<String> out = new ArrayList<>();
    for (String word : CharClass.splitOnWhitespace(text)) {
      tokenizeWord(word, out);
    }
    return out;
  }

  void tokenizeWord(String word, List<String> out) {
    int[] cps = word.codePoints().toArray();
    if (cps.length > maxInputCharsPerWord) {
      out.add(Vocab.UNK);
      return;
    }
    int mark = out.size();
    int start = 0;
    while (start < cps.length) {
      String match = null;
      int end = cps.length;
      for (; end > start; end--) {
        String piece = new String(cps, start, end - start);
        if (start > 0) {
          piece = continuation + piece;
        }
        if (vocab.contains(piece)) {
          match = piece;
          break;
        }
      }
      if (match == null) {
        out.subList(mark, out.size()).clear();
        out.add(Vocab.UNK);
        return;
      }
      out.add(match);
      start = end;
    }
  }
}

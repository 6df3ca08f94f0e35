package org.bertserving.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;

/** Google's {@code FullTokenizer}: basic tokenization, then word pieces. Thread-safe. */
public final class FullTokenizer {
  private final Vocab vocab;
  private final BasicTokenizer basic;
  private final WordpieceTokenizer wordpiece;

  public FullTokenizer(Vocab vocab, boolean doLowerCase) {
    this.vocab = vocab;
    this.basic = new BasicTokenizer(doLowerCase);
    this.wordpiece = new WordpieceTokenizer(vocab);
  }

  public List<String> tokenize(String text) {
    List<String> out = new ArrayList<>();
    for (String token : basic.tokenize(text)) {
      wordpiece.tokenizeWord(token, out);
    }
    return out;
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

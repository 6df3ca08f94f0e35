package org.bertserving.engine.tokenizer;

import java.text.Normalizer;
import java.util.List;
import java.util.Locale;

/**
 * Finds each word piece in the text it came from, for text-embeddings-inference's {@code /tokenize}
 * ({@code start}/{@code stop}). The tokenizer itself keeps no offsets (it cleans, lower-cases and
 * strips accents before splitting), so the pieces are walked along the text, each character
 * normalized as the tokenizer would. Where a piece cannot be matched (a character that normalizes
 * to several that pieces then split), it and the rest get no offsets rather than wrong ones.
 */
final class TokenOffsets {
  private final Normalization normalization;
  private final String continuation;
  private final List<String> addedTokens;

  TokenOffsets(Normalization normalization, String continuation, List<String> addedTokens) {
    this.normalization = normalization;
    this.continuation = continuation;
    this.addedTokens = addedTokens;
  }

  int[][] align(String text, List<String> tokens) {
    int[][] out = new int[tokens.size()][];
    int at = 0;
    for (int t = 0; t < tokens.size(); t++) {
      String token = tokens.get(t);
      int[] span;
      int wordStart = skip(text, at, true);
      if (token.equals(Vocab.UNK) && !text.startsWith(token, wordStart)) {
        // a word the vocabulary cannot spell (an emoji), not "[UNK]" written in the text: the
        // model's added tokens list [UNK] too, but it is not in the text to be found
        span = word(text, wordStart);
      } else if (addedTokens.contains(token)) {
        int found = text.indexOf(token, at);
        span = found < 0 ? null : new int[] {found, found + token.length()};
      } else {
        boolean piece = token.length() > continuation.length() && token.startsWith(continuation);
        span =
            match(
                text,
                skip(text, at, !piece),
                piece ? token.substring(continuation.length()) : token);
      }
      if (span == null) {
        return out; // the rest stay null
      }
      out[t] = span;
      at = span[1];
    }
    return out;
  }

  /** Past what the tokenizer drops (and, before a word, past separators). */
  private int skip(String text, int at, boolean separators) {
    while (at < text.length()) {
      int cp = text.codePointAt(at);
      String n = normalize(cp);
      if (!n.isEmpty() && !(separators && n.equals(" "))) {
        break;
      }
      at += Character.charCount(cp);
    }
    return at;
  }

  /** The characters at {@code at} whose normalized forms spell {@code piece}. */
  private int[] match(String text, int at, String piece) {
    StringBuilder spelled = new StringBuilder();
    int i = at;
    int end = at;
    while (spelled.length() < piece.length() && i < text.length()) {
      int cp = text.codePointAt(i);
      String n = normalize(cp);
      if (n.equals(" ")) {
        break;
      }
      i += Character.charCount(cp);
      if (!n.isEmpty()) {
        spelled.append(n);
        end = i;
      }
    }
    return spelled.toString().equals(piece) ? new int[] {at, end} : null;
  }

  /** A whole word, as the basic tokenizer cut it: one punctuation or CJK character, or a run. */
  private int[] word(String text, int at) {
    if (at >= text.length()) {
      return null;
    }
    int first = text.codePointAt(at);
    int i = at + Character.charCount(first);
    if (!single(first)) {
      while (i < text.length()) {
        int cp = text.codePointAt(i);
        if (normalize(cp).equals(" ") || single(cp)) {
          break;
        }
        i += Character.charCount(cp);
      }
    }
    return new int[] {at, i};
  }

  private boolean single(int cp) {
    return CharClass.isPunctuation(cp)
        || (normalization.splitCjk()
            && (normalization.huggingFace() ? CharClass.isHfCjk(cp) : CharClass.isCjk(cp)));
  }

  /** One character as the tokenizer sees it: "" when dropped, " " for a separator. */
  private String normalize(int cp) {
    boolean hf = normalization.huggingFace();
    if (normalization.cleanText()) {
      if (cp == 0 || cp == 0xFFFD || (hf ? CharClass.isOther(cp) : CharClass.isControl(cp))) {
        return "";
      }
      if (hf ? CharClass.isUnicodeWhitespace(cp) : CharClass.isWhitespace(cp)) {
        return " ";
      }
    }
    if (hf ? CharClass.isUnicodeWhitespace(cp) : CharClass.isPythonSpace(cp)) {
      return " ";
    }
    String s = new String(Character.toChars(cp));
    // Google lower-cases before stripping accents, Hugging Face after
    if (normalization.lowercase() && !hf) {
      s = s.toLowerCase(Locale.ROOT);
    }
    if (normalization.stripAccents()) {
      StringBuilder kept = new StringBuilder();
      Normalizer.normalize(s, Normalizer.Form.NFD)
          .codePoints()
          .filter(c -> Character.getType(c) != Character.NON_SPACING_MARK)
          .forEach(kept::appendCodePoint);
      s = kept.toString();
    }
    if (normalization.lowercase() && hf) {
      s = s.toLowerCase(Locale.ROOT);
    }
    return s;
  }
}

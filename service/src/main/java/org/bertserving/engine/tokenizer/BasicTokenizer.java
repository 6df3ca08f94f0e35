package org.bertserving.engine.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Google's {@code BasicTokenizer}: clean-up, CJK characters split, lower-casing and accent
 * stripping (uncased only), punctuation split; or, with {@link Normalization#huggingFace()},
 * Hugging Face's {@code BertNormalizer} followed by its {@code BertPreTokenizer}. Works on code
 * points, as Python 3 strings and Rust chars do.
 */
public final class BasicTokenizer {
  private final Normalization normalization;

  public BasicTokenizer(boolean doLowerCase) {
    this(Normalization.google(doLowerCase));
  }

  public BasicTokenizer(Normalization normalization) {
    this.normalization = normalization;
  }

  Normalization normalization() {
    return normalization;
  }

  public List<String> tokenize(String text) {
    return normalization.huggingFace() ? tokenizeHuggingFace(text) : tokenizeGoogle(text);
  }

  /** Google's order: clean and split, then lower-case and strip each word. */
  private List<String> tokenizeGoogle(String text) {
    String cleaned = clean(text);
    List<String> out = new ArrayList<>();
    for (String token : CharClass.splitOnWhitespace(cleaned)) {
      if (normalization.lowercase()) {
        token = token.toLowerCase(Locale.ROOT);
      }
      if (normalization.stripAccents()) {
        token = stripAccents(token);
      }
      splitOnPunctuation(token, out);
    }
    return out;
  }

  /** Hugging Face's order: the whole text is normalized (accents before case), then split. */
  private List<String> tokenizeHuggingFace(String text) {
    String normalized = clean(text);
    if (normalization.stripAccents()) {
      normalized = stripAccents(normalized);
    }
    if (normalization.lowercase()) {
      normalized = lowercaseByCodePoint(normalized);
    }
    List<String> out = new ArrayList<>();
    for (String token : CharClass.splitOnUnicodeWhitespace(normalized)) {
      splitOnPunctuation(token, out);
    }
    return out;
  }

  /**
   * Rust's {@code char::to_lowercase}, one code point at a time as Hugging Face's normalizer
   * applies it: no final-sigma rule (a word-final capital sigma becomes σ, not ς), and the one
   * unconditional full mapping, İ to i with a combining dot.
   */
  private static String lowercaseByCodePoint(String text) {
    StringBuilder s = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == 0x130) {
        s.append("i\u0307");
      } else {
        s.appendCodePoint(Character.toLowerCase(cp));
      }
    }
    return s.toString();
  }

  /** {@code _clean_text} and {@code _tokenize_chinese_chars} in one pass. */
  private String clean(String text) {
    boolean hf = normalization.huggingFace();
    StringBuilder s = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (normalization.cleanText()) {
        if (cp == 0 || cp == 0xFFFD || (hf ? CharClass.isOther(cp) : CharClass.isControl(cp))) {
          continue;
        }
        if (hf ? CharClass.isUnicodeWhitespace(cp) : CharClass.isWhitespace(cp)) {
          s.append(' ');
          continue;
        }
      }
      if (normalization.splitCjk() && (hf ? CharClass.isHfCjk(cp) : CharClass.isCjk(cp))) {
        s.append(' ').appendCodePoint(cp).append(' ');
      } else {
        s.appendCodePoint(cp);
      }
    }
    return s.toString();
  }

  private static String stripAccents(String token) {
    String nfd = Normalizer.normalize(token, Normalizer.Form.NFD);
    StringBuilder s = new StringBuilder(nfd.length());
    for (int i = 0; i < nfd.length(); ) {
      int cp = nfd.codePointAt(i);
      i += Character.charCount(cp);
      if (Character.getType(cp) != Character.NON_SPACING_MARK) {
        s.appendCodePoint(cp);
      }
    }
    return s.toString();
  }

  /** Each punctuation character becomes a token of its own; empty pieces are dropped. */
  private static void splitOnPunctuation(String token, List<String> out) {
    int start = 0;
    for (int i = 0; i < token.length(); ) {
      int cp = token.codePointAt(i);
      int next = i + Character.charCount(cp);
      if (CharClass.isPunctuation(cp)) {
        if (start < i) {
          out.add(token.substring(start, i));
        }
        out.add(token.substring(i, next));
        start = next;
      }
      i = next;
    }
    if (start < token.length()) {
      out.add(token.substring(start));
    }
  }
}

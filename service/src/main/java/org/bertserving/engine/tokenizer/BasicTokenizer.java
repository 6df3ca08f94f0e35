package org.bertserving.engine.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Google's {@code BasicTokenizer}: clean-up, CJK characters split, lower-casing and accent
 * stripping (uncased only), punctuation split. Works on code points, as Python 3 strings do.
 */
public final class BasicTokenizer {
  private final boolean doLowerCase;

  public BasicTokenizer(boolean doLowerCase) {
    this.doLowerCase = doLowerCase;
  }

  public List<String> tokenize(String text) {
    String cleaned = cleanAndSpaceCjk(text);
    List<String> out = new ArrayList<>();
    for (String token : CharClass.splitOnWhitespace(cleaned)) {
      if (doLowerCase) {
        token = stripAccents(token.toLowerCase(Locale.ROOT));
      }
      splitOnPunctuation(token, out);
    }
    return out;
  }

  /** {@code _clean_text} and {@code _tokenize_chinese_chars} in one pass. */
  private static String cleanAndSpaceCjk(String text) {
    StringBuilder s = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == 0 || cp == 0xFFFD || CharClass.isControl(cp)) {
        continue;
      }
      if (CharClass.isWhitespace(cp)) {
        s.append(' ');
      } else if (CharClass.isCjk(cp)) {
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

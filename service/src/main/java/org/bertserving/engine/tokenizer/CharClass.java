package org.bertserving.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;

/** The character classes of Google's {@code tokenization.py}, on Java's Unicode tables. */
final class CharClass {
  private CharClass() {}

  /** {@code _is_whitespace}: space, tab, newline, carriage return and category Zs. */
  static boolean isWhitespace(int cp) {
    return cp == ' '
        || cp == '\t'
        || cp == '\n'
        || cp == '\r'
        || Character.getType(cp) == Character.SPACE_SEPARATOR;
  }

  /** {@code _is_control}: categories Cc and Cf, except tab, newline, carriage return. */
  static boolean isControl(int cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') {
      return false;
    }
    int type = Character.getType(cp);
    return type == Character.CONTROL || type == Character.FORMAT;
  }

  /** {@code _is_punctuation}: all non-alphanumeric ASCII, and every category P*. */
  static boolean isPunctuation(int cp) {
    if ((cp >= 33 && cp <= 47)
        || (cp >= 58 && cp <= 64)
        || (cp >= 91 && cp <= 96)
        || (cp >= 123 && cp <= 126)) {
      return true;
    }
    switch (Character.getType(cp)) {
      case Character.CONNECTOR_PUNCTUATION:
      case Character.DASH_PUNCTUATION:
      case Character.START_PUNCTUATION:
      case Character.END_PUNCTUATION:
      case Character.INITIAL_QUOTE_PUNCTUATION:
      case Character.FINAL_QUOTE_PUNCTUATION:
      case Character.OTHER_PUNCTUATION:
        return true;
      default:
        return false;
    }
  }

  /** {@code _is_chinese_char}: the CJK Unified Ideographs blocks (not Hangul or kana). */
  static boolean isCjk(int cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF)
        || (cp >= 0x3400 && cp <= 0x4DBF)
        || (cp >= 0x20000 && cp <= 0x2A6DF)
        || (cp >= 0x2A700 && cp <= 0x2B73F)
        || (cp >= 0x2B740 && cp <= 0x2B81F)
        || (cp >= 0x2B820 && cp <= 0x2CEAF)
        || (cp >= 0xF900 && cp <= 0xFAFF)
        || (cp >= 0x2F800 && cp <= 0x2FA1F);
  }

  /**
   * Hugging Face's {@code is_control} ({@code char::is_other}), except tab, newline, carriage
   * return: wider than Google's, private-use and surrogate code points go too. Unassigned ones stay
   * (the Unicode tables it uses list none), as Hugging Face's tokenizers were seen to do.
   */
  static boolean isOther(int cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') {
      return false;
    }
    switch (Character.getType(cp)) {
      case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE:
        return true;
      default:
        return false;
    }
  }

  /** Rust's {@code char::is_whitespace}: Unicode's White_Space property. */
  static boolean isUnicodeWhitespace(int cp) {
    return (cp >= 0x09 && cp <= 0x0D)
        || cp == 0x20
        || cp == 0x85
        || cp == 0xA0
        || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200A)
        || cp == 0x2028
        || cp == 0x2029
        || cp == 0x202F
        || cp == 0x205F
        || cp == 0x3000;
  }

  /** Hugging Face's {@code is_chinese_char}: Google's blocks, one range starting at U+2B920. */
  static boolean isHfCjk(int cp) {
    return !(cp >= 0x2B820 && cp < 0x2B920) && isCjk(cp);
  }

  /**
   * Python's {@code str.split()}: the separators of {@code str.isspace()}, which include a few that
   * survive clean-up (line and paragraph separators, information separators).
   */
  static boolean isPythonSpace(int cp) {
    switch (cp) {
      case ' ', '\t', '\n', 0x0B, 0x0C, '\r', 0x1C, 0x1D, 0x1E, 0x1F, 0x85, 0x2028, 0x2029:
        return true;
      default:
        return Character.getType(cp) == Character.SPACE_SEPARATOR;
    }
  }

  static List<String> splitOnWhitespace(String text) {
    return split(text, false);
  }

  /** Splits as Hugging Face's pre-tokenizers do, on {@link #isUnicodeWhitespace}. */
  static List<String> splitOnUnicodeWhitespace(String text) {
    return split(text, true);
  }

  private static List<String> split(String text, boolean unicode) {
    List<String> out = new ArrayList<>();
    int start = -1;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      boolean space = unicode ? isUnicodeWhitespace(cp) : isPythonSpace(cp);
      if (space && start >= 0) {
        out.add(text.substring(start, i));
        start = -1;
      } else if (!space && start < 0) {
        start = i;
      }
      i += Character.charCount(cp);
    }
    if (start >= 0) {
      out.add(text.substring(start));
    }
    return out;
  }
}

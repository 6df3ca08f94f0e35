package org.bertserving.engine.tokenizer;

/**
 * How text is cleaned before it is split into words: Google's {@code tokenization.py} or Hugging
 * Face's {@code BertNormalizer} (what a {@code tokenizer.json} names). The two agree on ordinary
 * text and differ at the edges, which the {@code huggingFace} flag reproduces: its clean-up also
 * drops private-use code points, its lower-casing has no final-sigma rule, it splits a slightly
 * different CJK range, it strips accents before lower-casing, and it splits words on Unicode's
 * White_Space.
 *
 * @param lowercase lower-case the text
 * @param stripAccents drop combining marks after canonical decomposition
 * @param cleanText drop control characters, turn every kind of whitespace into a space
 * @param splitCjk put spaces around CJK ideographs, so that each is a word of its own
 * @param huggingFace Hugging Face's character classes and order of steps, not Google's
 */
public record Normalization(
    boolean lowercase,
    boolean stripAccents,
    boolean cleanText,
    boolean splitCjk,
    boolean huggingFace) {

  /** Google's {@code BasicTokenizer}: an uncased model lower-cases and strips accents. */
  public static Normalization google(boolean doLowerCase) {
    return new Normalization(doLowerCase, doLowerCase, true, true, false);
  }
}

package org.bertserving.engine;

/**
 * What one request may ask beyond the server's settings: a prompt of its own (E5's
 * {@code "query: "}), normalization on or off, and Matryoshka {@code dimensions}.
 *
 * @param prompt prefixed to each text before tokenization; {@code null} = the server's
 *     {@code -prompt}, {@code ""} = none
 * @param normalize L2-normalize the vectors; {@code null} = the server's {@code -normalize}
 * @param dimensions keep the first N components (renormalized when normalizing); {@code null} =
 *     all
 */
public record CallOptions(String prompt, Boolean normalize, Integer dimensions) {
  /** The server's settings throughout. */
  public static final CallOptions DEFAULTS = new CallOptions(null, null, null);

  /**
   * The width of the vectors these options give, for a model whose vectors are {@code width}
   * wide.
   *
   * @throws InvalidInputException when {@code dimensions} is below 1 or above {@code width}
   */
  public int width(int width) {
    if (dimensions == null) {
      return width;
    }
    if (dimensions < 1 || dimensions > width) {
      throw new InvalidInputException(-1, "dimensions " + dimensions + " is out of range: "
          + "expected 1 to " + width + " (the width of this model's vectors)");
    }
    return dimensions;
  }
}

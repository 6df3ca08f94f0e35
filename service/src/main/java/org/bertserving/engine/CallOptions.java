package org.bertserving.engine;

/**
 * What one request may ask beyond the server's settings: a prompt of its own (E5's {@code "query:
 * "}) or one of the model's named prompts, normalization on or off, Matryoshka {@code dimensions},
 * and how inputs longer than {@code max_seq_len} are treated (text-embeddings- inference's {@code
 * truncate} and {@code truncation_direction}).
 *
 * @param prompt prefixed to each text before tokenization; {@code null} = the server's {@code
 *     -prompt}, {@code ""} = none
 * @param normalize L2-normalize the vectors; {@code null} = the server's {@code -normalize}
 * @param dimensions keep the first N components (renormalized when normalizing); {@code null} = all
 * @param truncate {@code false}: an input longer than {@code max_seq_len} is refused; {@code null}
 *     or {@code true}: it is cut (bert-as-service's behaviour)
 * @param direction which end is cut; {@code null} = the end ({@link Direction#RIGHT})
 * @param promptName one of the model's named prompts ({@link Prompts}), in place of {@code prompt};
 *     {@code null} = none
 */
public record CallOptions(
    String prompt,
    Boolean normalize,
    Integer dimensions,
    Boolean truncate,
    Direction direction,
    String promptName) {
  /** The server's settings throughout. */
  public static final CallOptions DEFAULTS = new CallOptions(null, null, null);

  /** Which end of a too-long input is cut. */
  public enum Direction {
    LEFT,
    RIGHT
  }

  public CallOptions(String prompt, Boolean normalize, Integer dimensions) {
    this(prompt, normalize, dimensions, null, null, null);
  }

  /** Whether an input longer than the model takes is refused rather than cut. */
  public boolean refuseLong() {
    return Boolean.FALSE.equals(truncate);
  }

  /** Whether the start, not the end, of a too-long input is cut. */
  public boolean cutLeft() {
    return direction == Direction.LEFT;
  }

  /**
   * The width of the vectors these options give, for a model whose vectors are {@code width} wide.
   *
   * @throws InvalidInputException when {@code dimensions} is below 1 or above {@code width}
   */
  public int width(int width) {
    if (dimensions == null) {
      return width;
    }
    if (dimensions < 1 || dimensions > width) {
      throw new InvalidInputException(
          -1,
          "dimensions "
              + dimensions
              + " is out of range: "
              + "expected 1 to "
              + width
              + " (the width of this model's vectors)");
    }
    return dimensions;
  }
}

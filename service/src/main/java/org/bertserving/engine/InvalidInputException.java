package org.bertserving.engine;

/** A request the engine refuses as a whole; the message names the offending index. */
public final class InvalidInputException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final int index;
  private final String reason;

  public InvalidInputException(int index, String reason) {
    super(index < 0 ? reason : "input " + index + ": " + reason);
    this.index = index;
    this.reason = reason;
  }

  /** What is wrong, without the index. */
  public String reason() {
    return reason;
  }

  /** The same problem at an index shifted by {@code offset} (for a slice of a request). */
  public InvalidInputException shifted(int offset) {
    return index < 0 ? this : new InvalidInputException(index + offset, reason);
  }

  /** The index of the offending input, or -1 when the request as a whole is wrong. */
  public int index() {
    return index;
  }
}

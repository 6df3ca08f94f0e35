package org.bertserving.engine;

/** A request the engine refuses as a whole; the message names the offending index. */
public final class InvalidInputException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final int index;

  public InvalidInputException(int index, String reason) {
    super(index < 0 ? reason : "input " + index + ": " + reason);
    this.index = index;
  }

  /** The index of the offending input, or -1 when the request as a whole is wrong. */
  public int index() {
    return index;
  }
}

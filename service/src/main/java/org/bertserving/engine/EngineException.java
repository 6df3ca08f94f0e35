package org.bertserving.engine;

/**
 * A TensorFlow run failed (out of memory, a bad kernel, an injected fault): the session is suspect.
 */
public final class EngineException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public EngineException(String message) {
    super(message);
  }

  public EngineException(String message, Throwable cause) {
    super(message, cause);
  }
}

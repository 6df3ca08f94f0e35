package org.bertserving.client;

/**
 * Base of every failure the client reports; unchecked, like {@link java.io.UncheckedIOException}.
 */
public class BertClientException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BertClientException(String message) {
    super(message);
  }

  public BertClientException(String message, Throwable cause) {
    super(message, cause);
  }
}

package org.bertserving.client;

/** No answer in time: the client's own timeout, or the server's 504. */
public class BertTimeoutException extends BertClientException {
  private static final long serialVersionUID = 1L;

  public BertTimeoutException(String message, Throwable cause) {
    super(message, cause);
  }
}

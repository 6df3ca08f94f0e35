package org.bertserving.client;

/** Still overloaded (429) or without workers (503) after all retries. */
public class BertOverloadedException extends BertServerException {
  private static final long serialVersionUID = 1L;

  public BertOverloadedException(int status, String type, String description) {
    super(status, type, description);
  }
}

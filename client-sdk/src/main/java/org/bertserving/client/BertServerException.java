package org.bertserving.client;

/** The server refused or failed the request: its status, error type and description. */
public class BertServerException extends BertClientException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String type;
  private final String description;

  public BertServerException(int status, String type, String description) {
    super(status + " " + type + ": " + description);
    this.status = status;
    this.type = type;
    this.description = description;
  }

  /** As HTTP: 400 bad input, 413 too large, 429 overloaded, 503 no worker, 504 timed out. */
  public int status() {
    return status;
  }

  /** A stable name such as {@code invalid_input}. */
  public String type() {
    return type;
  }

  public String description() {
    return description;
  }
}

package org.bertserving.client.protocol;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A request that was not answered with vectors.
 *
 * @param status as HTTP: 400 bad input, 413 too large, 429 overloaded, 503 no worker, 504 timeout
 * @param type a stable machine-readable name, e.g. {@code invalid_input}
 * @param description what went wrong, for people
 * @param retryAfterSeconds for 429 and 503, when to try again; otherwise 0
 */
public record EncodeFailure(
    JsonNode id, int status, String type, String description, int retryAfterSeconds)
    implements EncodeOutcome {

  public static EncodeFailure of(JsonNode id, int status, String type, String description) {
    return new EncodeFailure(id, status, type, description, 0);
  }
}

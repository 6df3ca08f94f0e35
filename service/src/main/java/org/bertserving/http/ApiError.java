package org.bertserving.http;

import com.fasterxml.jackson.databind.JsonNode;
import org.bertserving.client.http.ErrorAnswer;
import org.bertserving.client.protocol.EncodeFailure;

/**
 * An error before {@link Errors} gives it a route family's shape.
 *
 * @param type a stable machine-readable name ({@code invalid_input}, {@code overloaded}, ...)
 * @param param the request field at fault, or {@code null}; set only for a field of the wrong shape
 *     (OpenAI's {@code param}; text-embeddings-inference answers those with 422)
 * @param retryAfterSeconds for 429 and 503, when to try again; otherwise 0
 * @param id bert-as-service's request id, echoed by {@code /encode}, or {@code null}
 */
record ApiError(
    int status, String type, String message, String param, int retryAfterSeconds, JsonNode id) {

  static ApiError of(int status, String type, String message) {
    return new ApiError(status, type, message, null, 0, null);
  }

  /** A request field of the wrong type or value. */
  static ApiError field(String param, String message) {
    return new ApiError(400, "invalid_input", message, param, 0, null);
  }

  /** bert-as-service's shape of this error, as the SDK reads it. */
  ErrorAnswer answer() {
    return new ErrorAnswer(id, status, type, message);
  }

  /** What the frontend (or a worker) answered instead of vectors. */
  static ApiError of(EncodeFailure failure) {
    return new ApiError(
        failure.status(),
        failure.type(),
        failure.description(),
        null,
        failure.retryAfterSeconds(),
        failure.id());
  }
}

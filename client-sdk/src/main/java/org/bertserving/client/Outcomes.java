package org.bertserving.client;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.bertserving.client.protocol.EncodeReply;

/** What both transports share: client-side validation, results, failures. */
final class Outcomes {
  private Outcomes() {}

  /** As the server would, but before sending: nothing is sent for a bad batch. */
  static void validate(List<?> inputs, boolean isTokenized) {
    if (inputs == null || inputs.isEmpty()) {
      throw new IllegalArgumentException("no texts given: expected a non-empty list");
    }
    for (int i = 0; i < inputs.size(); i++) {
      Object input = inputs.get(i);
      if (input == null) {
        throw new IllegalArgumentException("input " + i + " is null");
      }
      if (isTokenized
          ? !(input instanceof List<?> l) || l.isEmpty()
          : !(input instanceof String s) || s.isBlank()) {
        throw new IllegalArgumentException(
            "input "
                + i
                + " is "
                + (isTokenized ? "not a non-empty token list" : "not a non-empty string"));
      }
    }
  }

  static RuntimeException failure(int status, String type, String description) {
    if (status == 429 || status == 503) {
      return new BertOverloadedException(status, type, description);
    }
    if (status == 504) {
      return new BertTimeoutException("server: " + description, null);
    }
    return new BertServerException(status, type, description);
  }

  static EncodeResult result(EncodeReply reply) {
    return reply.tokenLevel()
        ? new EncodeResult(null, reply.tokenMatrices(), reply.tokens())
        : new EncodeResult(reply.matrix(), null, reply.tokens());
  }

  static <T> T join(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }
}

package org.bertserving.client;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
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

  /**
   * The pooled vectors {@code [B, D]} of {@code result}, as {@code encode} returns them: a server
   * started with {@code -pooling_strategy NONE} answers token vectors instead.
   */
  static float[][] pooled(EncodeResult result) {
    if (result.vectors() == null) {
      throw new BertClientException(
          "the server does not pool (-pooling_strategy NONE): use encodeTokens()");
    }
    return result.vectors();
  }

  /**
   * {@code result} if it holds a row for each of the {@code sent} inputs: a server (or a proxy)
   * that answers fewer or more would otherwise shift every vector after the gap onto the wrong
   * text.
   */
  static EncodeResult whole(EncodeResult result, int sent) {
    int rows =
        result.vectors() != null
            ? result.vectors().length
            : result.tokenVectors() != null ? result.tokenVectors().length : -1;
    if (rows != sent) {
      throw new BertClientException(
          "the server answered " + rows + " rows for " + sent + " inputs; no vector was used");
    }
    return result;
  }

  static EncodeResult result(EncodeReply reply) {
    return reply.tokenLevel()
        ? new EncodeResult(null, reply.tokenMatrices(), reply.tokens())
        : new EncodeResult(reply.matrix(), null, reply.tokens());
  }

  /**
   * The answer, waited for as long as it takes (each call has its own timeout), or until the
   * waiting thread is interrupted: then the call is cancelled (its exchange aborted), the thread
   * keeps its interrupt, and the failure says so.
   */
  static <T> T join(CompletableFuture<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new BertClientException("interrupted while waiting for the server's answer", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new CompletionException(e.getCause());
    }
  }
}

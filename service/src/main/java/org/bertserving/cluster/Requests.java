package org.bertserving.cluster;

import akka.actor.typed.ActorRef;
import java.util.List;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.engine.CallOptions;
import org.bertserving.engine.Featurizer;
import org.bertserving.engine.InvalidInputException;

/**
 * What the frontend makes of an encode request before load counts: the checks that refuse it
 * whatever the load, its rows as a {@link Job.Segment}, its own options for the engine.
 */
final class Requests {
  private Requests() {}

  /**
   * Why a request cannot be taken whatever the load (bad input, too many texts, a text too long to
   * travel to a worker), or {@code null}.
   */
  static EncodeFailure invalid(
      EncodeRequest request, List<Object> inputs, int maxRequestRows, long maxTextChars) {
    try {
      Featurizer.validate(inputs, request.isTokenized());
    } catch (InvalidInputException e) {
      return EncodeFailure.of(request.id(), 400, "invalid_input", e.getMessage());
    }
    String direction = request.truncationDirection();
    if (direction != null
        && !direction.equalsIgnoreCase("left")
        && !direction.equalsIgnoreCase("right")) {
      return EncodeFailure.of(
          request.id(),
          400,
          "invalid_input",
          "truncation_direction '" + direction + "': expected Left or Right");
    }
    if (request.dimensions() != null && request.dimensions() < 1) {
      return EncodeFailure.of(
          request.id(),
          400,
          "invalid_input",
          "dimensions " + request.dimensions() + " is out of range: expected at least 1");
    }
    int size = inputs.size();
    if (size > maxRequestRows) {
      return EncodeFailure.of(
          request.id(),
          413,
          "too_large",
          size
              + " texts in one request; at "
              + "most "
              + maxRequestRows
              + " (bert-serving.frontend.max-request-rows)");
    }
    Job.Segment whole =
        segment("", null, inputs, request.isTokenized(), 0, CallOptions.DEFAULTS, false);
    for (int i = 0; i < size; i++) {
      if (whole.chars(i) > maxTextChars) {
        return EncodeFailure.of(
            request.id(),
            413,
            "too_large",
            "text "
                + i
                + " has "
                + whole.chars(i)
                + " characters; at most "
                + maxTextChars
                + " travel to a worker in "
                + "one message (akka.remote.artery.advanced.maximum-frame-size)");
      }
    }
    return null;
  }

  /** The whole request as one typed segment; the inputs are validated already. */
  @SuppressWarnings("unchecked")
  static Job.Segment segment(
      String requestId,
      ActorRef<Aggregator.Command> aggregator,
      List<Object> inputs,
      boolean isTokenized,
      long deadline,
      CallOptions options,
      boolean showTokens) {
    List<?> typed = inputs;
    return isTokenized
        ? new Job.Segment(
            requestId,
            aggregator,
            0,
            null,
            (List<List<String>>) typed,
            deadline,
            0,
            options,
            showTokens)
        : new Job.Segment(requestId, aggregator, 0, typed, null, deadline, 0, options, showTokens);
  }

  /** The request's own options for the engine; its direction is checked by {@link #invalid}. */
  static CallOptions options(EncodeRequest r) {
    String direction = r.truncationDirection();
    return new CallOptions(
        r.prompt(),
        r.normalize(),
        r.dimensions(),
        r.truncate(),
        direction == null
            ? null
            : CallOptions.Direction.valueOf(direction.toUpperCase(java.util.Locale.ROOT)),
        r.promptName());
  }
}

package org.bertserving.cluster;

import akka.actor.NoSerializationVerificationNeeded;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.PackedRows;
import org.bertserving.client.protocol.WireMessage;

/**
 * One per request: places each job's rows at their offsets (a row that arrives twice, from a job
 * sent again after a worker died, counts once), answers the caller once all rows are in, in input
 * order, or fails the request on timeout. Tells the frontend when it is done either way.
 */
public final class Aggregator extends AbstractBehavior<Aggregator.Command> {

  public interface Command {}

  /**
   * Rows of one segment (or of a chunk of it) from a worker, or why they cannot be computed.
   *
   * @param rows per input the pooled vector or the token vectors, {@code null} on error; packed
   *     float32 between nodes
   * @param tokens per input its tokens when the request asked for them, else {@code null}
   * @param tokenCounts per input how many tokens the model read
   * @param status on error, the HTTP-like status the request fails with; 0 otherwise
   */
  public record JobResult(
      String requestId,
      int offset,
      int dim,
      int outputLength,
      @JsonSerialize(using = PackedRows.Writer.class)
          @JsonDeserialize(using = PackedRows.Reader.class)
          List<float[]> rows,
      List<List<String>> tokens,
      int[] tokenCounts,
      int status,
      String errorType,
      String error)
      implements Command, WireMessage {

    static JobResult failed(String requestId, int offset, int status, String type, String error) {
      return new JobResult(requestId, offset, 0, 0, null, null, null, status, type, error);
    }
  }

  private enum Timeout implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  private final String requestId;

  /** The model the rows come from, named in the reply. */
  private final String model;

  private final JsonNode clientId;
  private final boolean tokenLevel;
  private final ActorRef<EncodeOutcome> replyTo;
  private final ActorRef<Frontend.Command> frontend;
  private final float[][] rows;
  private final List<String>[] tokens;
  private final int[] tokenCounts;
  private int received;
  private int dim;
  private int outputLength;

  @SuppressWarnings("unchecked")
  private Aggregator(
      ActorContext<Command> context,
      String requestId,
      JsonNode clientId,
      int size,
      boolean tokenLevel,
      boolean showTokens,
      ActorRef<EncodeOutcome> replyTo,
      ActorRef<Frontend.Command> frontend,
      String model) {
    super(context);
    this.model = model;
    this.requestId = requestId;
    this.clientId = clientId;
    this.tokenLevel = tokenLevel;
    this.replyTo = replyTo;
    this.frontend = frontend;
    this.rows = new float[size][];
    this.tokens = showTokens ? new List[size] : null;
    this.tokenCounts = new int[size];
  }

  /** An aggregator whose reply names {@code model}, the model that computed the rows. */
  static Behavior<Command> create(
      String requestId,
      JsonNode clientId,
      int size,
      boolean tokenLevel,
      boolean showTokens,
      Duration timeout,
      ActorRef<EncodeOutcome> replyTo,
      ActorRef<Frontend.Command> frontend,
      String model) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  timers.startSingleTimer(Timeout.INSTANCE, timeout);
                  return new Aggregator(
                      context,
                      requestId,
                      clientId,
                      size,
                      tokenLevel,
                      showTokens,
                      replyTo,
                      frontend,
                      model);
                }));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(JobResult.class, this::onResult)
        .onMessageEquals(Timeout.INSTANCE, this::onTimeout)
        .build();
  }

  /** A result it cannot place (a bug) fails its request at once, never leaves it unanswered. */
  private Behavior<Command> onResult(JobResult result) {
    try {
      return place(result);
    } catch (RuntimeException e) {
      getContext().getLog().error("request {}: a result could not be placed", requestId, e);
      return finish(
          EncodeFailure.of(clientId, 500, "internal_error", "a result could not be placed: " + e));
    }
  }

  private Behavior<Command> place(JobResult result) {
    if (result.error() != null) {
      return finish(
          EncodeFailure.of(clientId, result.status(), result.errorType(), result.error()));
    }
    dim = result.dim();
    outputLength = Math.max(outputLength, result.outputLength());
    for (int i = 0; i < result.rows().size(); i++) {
      int at = result.offset() + i;
      if (rows[at] == null) {
        rows[at] = result.rows().get(i);
        tokenCounts[at] = result.tokenCounts()[i];
        if (tokens != null) {
          tokens[at] = result.tokens().get(i);
        }
        received++;
      }
    }
    if (received < rows.length) {
      return this;
    }
    return finish(
        new EncodeReply(
            clientId,
            dim,
            outputLength,
            tokenLevel,
            Arrays.asList(rows),
            tokens == null ? null : Arrays.asList(tokens),
            tokenCounts,
            model));
  }

  private Behavior<Command> onTimeout() {
    return finish(
        EncodeFailure.of(
            clientId,
            504,
            "timeout",
            "request "
                + requestId
                + " timed out with "
                + received
                + " of "
                + rows.length
                + " rows encoded"));
  }

  private Behavior<Command> finish(EncodeOutcome outcome) {
    replyTo.tell(outcome);
    frontend.tell(new Frontend.RequestFinished(requestId, rows.length, outcome));
    return Behaviors.stopped();
  }
}

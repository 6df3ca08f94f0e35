package org.bertserving.cluster;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.client.protocol.StatusReply;
import org.bertserving.client.protocol.WireMessage;

/**
 * The doors' (HTTP, cluster client, ZeroMQ) one way of asking the frontend: the frontend answers
 * every request by the request timeout itself; the ask's own timeout only covers a lost actor, and
 * then the caller gets a 504 naming the frontend, never an exception. An encode's answer completes
 * in the thread that answered (the request's aggregator, or the frontend for a refusal, on the
 * system's default dispatcher; the scheduler's for the ask's own timeout, a lost actor, whose 504
 * is a few hundred bytes), and what a door chains on it (rendering) runs there: a hand-off to
 * another thread would wake an idle core for every request (about 0.05-0.1 ms on the README's
 * 2-core VM). The status completes on the default dispatcher ({@link Stages}).
 */
public final class FrontendAsk {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FrontendAsk.class);

  private FrontendAsk() {}

  public static CompletableFuture<EncodeOutcome> encode(
      ActorRef<Frontend.Command> frontend,
      EncodeRequest request,
      Duration timeout,
      ActorSystem<?> system) {
    return Stages.on(
        AskPattern.<Frontend.Command, EncodeOutcome>ask(
            frontend,
            replyTo -> new Frontend.Encode(request, replyTo),
            timeout,
            system.scheduler()),
        Runnable::run,
        e -> unanswered(request.id(), timeout, e));
  }

  /**
   * Configuration and statistics ({@link StatusReply}) within {@link ServingSettings#GRACE}, or the
   * same 504 {@link EncodeFailure} as {@link #encode}: every door answers a lost status alike.
   */
  public static CompletableFuture<WireMessage> status(
      ActorRef<Frontend.Command> frontend, ActorSystem<?> system) {
    return Stages.on(
        AskPattern.<Frontend.Command, StatusReply>ask(
            frontend, Frontend.GetStatus::new, ServingSettings.GRACE, system.scheduler()),
        system.executionContext(),
        e -> unanswered(null, ServingSettings.GRACE, e));
  }

  /** The 504 of an ask that failed, its cause logged once here (the caller sees only the 504). */
  private static EncodeFailure unanswered(
      com.fasterxml.jackson.databind.JsonNode id, Duration t, Throwable cause) {
    String message = "no answer from the frontend within " + t.toSeconds() + " s";
    LOG.warn("{}: {}", message, cause.toString());
    return EncodeFailure.of(id, 504, "timeout", message);
  }
}

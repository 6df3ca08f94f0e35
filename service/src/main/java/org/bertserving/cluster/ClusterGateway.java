package org.bertserving.cluster;

import akka.actor.AbstractActor;
import akka.actor.ActorRef;
import akka.actor.Props;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.AskPattern;
import akka.pattern.Patterns;
import java.time.Duration;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.client.protocol.StatusReply;
import org.bertserving.client.protocol.StatusRequest;

/**
 * The door for Akka's cluster client (a classic actor, as the cluster client is classic): takes the
 * SDK's own wire types, asks the frontend, answers the sender, so the client needs nothing of the
 * service's protocol. Registered at {@code /user/bert-gateway} with the ClusterClientReceptionist.
 */
public final class ClusterGateway extends AbstractActor {
  public static final String NAME = "bert-gateway";

  private final akka.actor.typed.ActorRef<Frontend.Command> frontend;
  private final Duration timeout;

  private ClusterGateway(akka.actor.typed.ActorRef<Frontend.Command> frontend, Duration timeout) {
    this.frontend = frontend;
    this.timeout = timeout;
  }

  public static Props props(akka.actor.typed.ActorRef<Frontend.Command> frontend, Duration timeout) {
    return Props.create(ClusterGateway.class, () -> new ClusterGateway(frontend, timeout));
  }

  @Override
  public Receive createReceive() {
    return receiveBuilder()
        .match(EncodeRequest.class, this::onEncode)
        .match(StatusRequest.class, s -> onStatus())
        .build();
  }

  private void onEncode(EncodeRequest request) {
    ActorRef sender = getSender();
    var outcome = AskPattern.<Frontend.Command, EncodeOutcome>ask(frontend,
            replyTo -> new Frontend.Encode(request, replyTo), timeout,
            Adapter.toTyped(getContext().getSystem()).scheduler())
        .exceptionally(e -> EncodeFailure.of(request.id(), 504, "timeout", "no answer in time"));
    Patterns.pipe(outcome.toCompletableFuture(), getContext().getDispatcher()).to(sender);
  }

  private void onStatus() {
    ActorRef sender = getSender();
    var status = AskPattern.<Frontend.Command, StatusReply>ask(frontend, Frontend.GetStatus::new,
        Duration.ofSeconds(5), Adapter.toTyped(getContext().getSystem()).scheduler());
    Patterns.pipe(status.toCompletableFuture(), getContext().getDispatcher()).to(sender);
  }
}

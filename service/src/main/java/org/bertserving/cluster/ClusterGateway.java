package org.bertserving.cluster;

import akka.actor.AbstractActor;
import akka.actor.ActorRef;
import akka.actor.Props;
import akka.actor.typed.javadsl.Adapter;
import akka.pattern.Patterns;
import java.time.Duration;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.EncodeRequest;
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
  private final long maxReplyBytes;

  private ClusterGateway(
      akka.actor.typed.ActorRef<Frontend.Command> frontend, Duration timeout, long frameBytes) {
    this.frontend = frontend;
    this.timeout = timeout;
    this.maxReplyBytes = frameBytes * 3 / 4;
  }

  /**
   * @param frameBytes Artery's frame: a reply must fit one, as the cluster client cannot chunk
   */
  public static Props props(
      akka.actor.typed.ActorRef<Frontend.Command> frontend, Duration timeout, long frameBytes) {
    return Props.create(
        ClusterGateway.class, () -> new ClusterGateway(frontend, timeout, frameBytes));
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
    var outcome =
        FrontendAsk.encode(frontend, request, timeout, Adapter.toTyped(getContext().getSystem()))
            .thenApply(this::fitting);
    Patterns.pipe(outcome.toCompletableFuture(), getContext().getDispatcher()).to(sender);
  }

  /**
   * The reply, or a failure naming the limit when it could not cross to the client in one frame.
   */
  private EncodeOutcome fitting(EncodeOutcome outcome) {
    if (outcome instanceof EncodeReply reply) {
      long bytes = 0;
      for (int i = 0; i < reply.rows().size(); i++) {
        bytes +=
            ResultChunker.bytes(
                reply.rows().get(i),
                reply.tokens() == null ? java.util.List.of() : reply.tokens().get(i));
      }
      if (bytes > maxReplyBytes) {
        return EncodeFailure.of(
            reply.id(),
            413,
            "too_large",
            String.format(
                java.util.Locale.ROOT,
                "the result is %.1f MB, over the %.1f MB one cluster-client message may carry "
                    + "(akka.remote.artery.advanced.maximum-frame-size): send fewer texts per request "
                    + "(BertClient.encodeStream does) or use HTTP",
                bytes / 1e6,
                maxReplyBytes / 1e6));
      }
    }
    return outcome;
  }

  private void onStatus() {
    ActorRef sender = getSender();
    var status = FrontendAsk.status(frontend, Adapter.toTyped(getContext().getSystem()));
    Patterns.pipe(status.toCompletableFuture(), getContext().getDispatcher()).to(sender);
  }
}

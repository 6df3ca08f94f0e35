package org.bertserving.cluster;

import akka.actor.NoSerializationVerificationNeeded;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.pubsub.Topic;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.Map;
import org.bertserving.client.protocol.WireMessage;

/**
 * A frontend's share in the cluster's admission: publishes its backlog (tokens admitted and not yet
 * computed) on a pub-sub {@link Topic} that every frontend subscribes to, a few times a second and
 * at once on a big change, and tells its frontend the others' latest ({@link PeerLoads}).
 *
 * <p>Why a Topic and not Distributed Data: a publication reaches the other frontends directly in
 * milliseconds, where an LWW map spreads by gossip (every 2 s by default) and would let every
 * frontend admit on old news for seconds; and a frontend that stops publishing simply ages out
 * (each node on its own clock), where a map would need its entries removed by someone.
 */
public final class LoadShare extends AbstractBehavior<LoadShare.Command> {
  public interface Command {}

  /** The topic every frontend of a cluster publishes on and listens to. */
  static final String TOPIC = "bert-frontend-load";

  /**
   * One frontend's backlog, in all and per model, from {@code from} to every frontend (itself too:
   * it skips its own).
   */
  public record FrontendLoad(
      ActorRef<Command> from, double backlogTokens, Map<String, Double> byModel)
      implements Command, WireMessage {}

  /**
   * This frontend's backlog now (in all and per model), and the cluster's budget (what a big change
   * is measured by).
   */
  record Local(double backlogTokens, double budgetTokens, Map<String, Double> byModel)
      implements Command, NoSerializationVerificationNeeded {}

  private enum Tick implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** {@code bert-serving.frontend.load-sharing}, read once at the frontend's start. */
  record Settings(Duration interval, Duration forgetAfter) {
    static Settings create(Config root) {
      String path = "bert-serving.frontend.load-sharing";
      try {
        Config c = root.getConfig(path);
        Settings s = new Settings(c.getDuration("interval"), c.getDuration("forget-after"));
        if (s.interval.toMillis() <= 0) {
          throw new IllegalArgumentException(path + ".interval must be > 0");
        }
        if (s.forgetAfter.compareTo(s.interval.multipliedBy(2)) < 0) {
          throw new IllegalArgumentException(
              path + ".forget-after must be at least twice " + path + ".interval");
        }
        return s;
      } catch (ConfigException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
    }
  }

  private final ActorRef<Frontend.Command> frontend;
  private final ActorRef<Topic.Command<FrontendLoad>> topic;
  private final PeerLoads peers;
  private double backlog;
  private double budget;
  private Map<String, Double> byModel = Map.of();

  private LoadShare(
      ActorContext<Command> context, ActorRef<Frontend.Command> frontend, Settings settings) {
    super(context);
    this.frontend = frontend;
    this.peers = new PeerLoads(settings.forgetAfter(), settings.interval());
    this.topic = context.spawn(Topic.create(FrontendLoad.class, TOPIC), "topic");
    topic.tell(Topic.subscribe(context.getSelf().narrow()));
  }

  /**
   * Resumed after a failure in one message's handling, as its frontend is: the other frontends'
   * news is soft state, and stopped, it would leave its frontend admitting alone for good.
   */
  static Behavior<Command> create(ActorRef<Frontend.Command> frontend, Settings settings) {
    return Behaviors.supervise(
            Behaviors.<Command>setup(
                context ->
                    Behaviors.withTimers(
                        timers -> {
                          timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.interval());
                          return new LoadShare(context, frontend, settings);
                        })))
        .onFailure(Exception.class, akka.actor.typed.SupervisorStrategy.resume());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Local.class, this::onLocal)
        .onMessage(FrontendLoad.class, this::onFrontendLoad)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .build();
  }

  private Behavior<Command> onLocal(Local local) {
    backlog = local.backlogTokens();
    budget = local.budgetTokens();
    byModel = local.byModel();
    publishIfDue();
    return this;
  }

  private Behavior<Command> onTick() {
    publishIfDue();
    if (peers.expire(System.nanoTime())) {
      tellFrontend();
    }
    return this;
  }

  private Behavior<Command> onFrontendLoad(FrontendLoad load) {
    if (load.from() == null) {
      getContext().getLog().warn("news of a frontend's load without its sender, ignored: {}", load);
    } else if (!load.from().equals(getContext().getSelf())) {
      // keyed by node: a frontend's next incarnation on the same address replaces its old news
      peers.heard(
          load.from().path().address().toString(),
          load.backlogTokens(),
          load.byModel(),
          System.nanoTime());
      tellFrontend();
    }
    return this;
  }

  private void publishIfDue() {
    if (peers.publish(backlog, budget, System.nanoTime())) {
      topic.tell(Topic.publish(new FrontendLoad(getContext().getSelf(), backlog, byModel)));
    }
  }

  private void tellFrontend() {
    frontend.tell(
        new Frontend.OtherFrontends(peers.total(), peers.byFrontend(), peers.totalByModel()));
  }
}

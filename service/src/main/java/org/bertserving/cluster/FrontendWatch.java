package org.bertserving.cluster;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Leave;
import java.time.Duration;
import java.util.stream.StreamSupport;

/**
 * A worker-only node's watch for a cluster left without frontends. When every frontend leaves
 * gracefully at once (a Deployment scaled to zero and back, its pods deleted together), the
 * split-brain resolver has nothing to decide and the workers stay members of a cluster that no
 * request reaches, while the new frontends form a cluster of their own (on Kubernetes the workers
 * are no contact points for them to find). A worker that has seen no frontend for {@code after}
 * leaves, and the node joins again as a new incarnation, through its seed nodes or Cluster
 * Bootstrap, where the frontends now are.
 */
public final class FrontendWatch extends AbstractBehavior<FrontendWatch.Tick> {
  /** Checks the membership once a second. */
  public enum Tick {
    INSTANCE
  }

  private static final Duration EVERY = Duration.ofSeconds(1);

  private final Cluster cluster;
  private final long afterNanos;
  private long aloneSince = -1;

  /** Watches this node's cluster; leaves it after {@code after} without a frontend member. */
  public static Behavior<Tick> create(Duration after) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(Tick.INSTANCE, EVERY);
                  return new FrontendWatch(context, after);
                }));
  }

  private FrontendWatch(ActorContext<Tick> context, Duration after) {
    super(context);
    this.cluster = Cluster.get(context.getSystem());
    this.afterNanos = after.toNanos();
  }

  @Override
  public Receive<Tick> createReceive() {
    return newReceiveBuilder().onMessage(Tick.class, t -> onTick()).build();
  }

  private Behavior<Tick> onTick() {
    if (cluster.selfMember().status() != MemberStatus.up() || hasFrontend()) {
      aloneSince = -1; // not a member yet, or leaving already, or served
      return this;
    }
    long now = System.nanoTime();
    if (aloneSince < 0) {
      aloneSince = now;
    } else if (now - aloneSince >= afterNanos) {
      getContext()
          .getLog()
          .warn(
              "no frontend in this cluster for {} s: leaving it to join again where the"
                  + " frontends are",
              Duration.ofNanos(afterNanos).toSeconds());
      cluster.manager().tell(Leave.create(cluster.selfMember().address()));
      return Behaviors.stopped();
    }
    return this;
  }

  /** A frontend that is a member, or joining: one that is leaving does not count. */
  private boolean hasFrontend() {
    return StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
        .anyMatch(FrontendWatch::servingFrontend);
  }

  private static boolean servingFrontend(Member m) {
    MemberStatus s = m.status();
    return m.hasRole("frontend")
        && (s == MemberStatus.up() || s == MemberStatus.weaklyUp() || s == MemberStatus.joining());
  }
}

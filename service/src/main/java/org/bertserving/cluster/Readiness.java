package org.bertserving.cluster;

import akka.actor.typed.ActorSystem;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;

/**
 * Whether this node can do its part now, for {@code GET /ready}: it is a member of the cluster; its
 * workers (if any) have working sessions; a frontend sees at least one warmed worker; a worker-only
 * node sees a reachable frontend (without one, its work reaches nobody).
 */
public record Readiness(boolean ready, String reason) {

  public static Readiness of(
      ServingSettings settings, Metrics metrics, NodeWorkers workers, ActorSystem<?> system) {
    Cluster cluster = Cluster.get(system);
    MemberStatus self = cluster.selfMember().status();
    if (self != MemberStatus.up() && self != MemberStatus.weaklyUp()) {
      return new Readiness(false, "this node is not up in a cluster (" + self + ")");
    }
    if (settings.isWorker() && !workers.allReady()) {
      return new Readiness(
          false,
          workers.ready()
              + " of "
              + workers.expected()
              + " worker(s) of this node have a warmed, working session"
              + (workers.notReady().isEmpty() ? "" : "; " + workers.notReady()));
    }
    if (settings.isFrontend()) {
      long registered = (long) metrics.workers.get();
      return registered > 0
          ? new Readiness(true, registered + " worker(s) registered")
          : new Readiness(false, "no warmed worker is registered yet");
    }
    ClusterEvent.CurrentClusterState state = cluster.state();
    for (Member member : state.getMembers()) {
      if (member.hasRole("frontend")
          && member.status() == MemberStatus.up()
          && !state.getUnreachable().contains(member)) {
        return new Readiness(true, "frontend " + member.address() + " reachable");
      }
    }
    return new Readiness(false, "no reachable frontend in the cluster");
  }
}

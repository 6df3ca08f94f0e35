package org.bertserving.cluster;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The workers of this node as its readiness probe sees them: ready while every one of them has a
 * warmed, working session (a worker restarting its session is not).
 */
public final class NodeWorkers {
  private final int expected;
  private final Set<String> ready = ConcurrentHashMap.newKeySet();

  public NodeWorkers(int expected) {
    this.expected = expected;
  }

  void ready(String worker) {
    ready.add(worker);
  }

  void down(String worker) {
    ready.remove(worker);
  }

  public int expected() {
    return expected;
  }

  public int ready() {
    return ready.size();
  }

  /** All workers of this node are up (trivially so on a node without workers). */
  public boolean allReady() {
    return ready.size() >= expected;
  }
}

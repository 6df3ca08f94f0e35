package org.bertserving.cluster;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The workers of this node as its readiness probe sees them: ready while every one of them has a
 * warmed, working session (a worker restarting its session is not).
 */
public final class NodeWorkers {
  private final int expected;
  private final Set<String> ready = ConcurrentHashMap.newKeySet();
  private final Map<String, String> notReady = new ConcurrentHashMap<>();

  public NodeWorkers(int expected) {
    this.expected = expected;
  }

  void ready(String worker) {
    ready.add(worker);
    notReady.remove(worker);
  }

  /** A worker is not ready, and why (warming up, a failed warm-up and when it tries again). */
  void down(String worker, String why) {
    ready.remove(worker);
    notReady.put(worker, why);
  }

  /** Why each worker that is not ready is not, by worker. */
  public Map<String, String> notReady() {
    return new TreeMap<>(notReady);
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

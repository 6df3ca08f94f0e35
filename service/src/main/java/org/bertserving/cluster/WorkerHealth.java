package org.bertserving.cluster;

import java.time.Duration;
import org.bertserving.engine.EngineException;
import org.slf4j.Logger;

/**
 * What a worker's node says of it, plain Java: warming up, ready, or why not (for {@code /ready});
 * and its failures in a row, with the wait each earns before the next session. One per worker
 * instance.
 */
final class WorkerHealth {
  /**
   * The wait before a new session after a failure; it doubles with every failure in a row (runs and
   * warm-ups alike) and starts again from here after a run that works.
   */
  static final Duration MIN_BACKOFF = Duration.ofMillis(200);

  static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  private final NodeWorkers node;
  private final String name;
  private final Logger log;

  /** Failures in a row (runs, then warm-ups of new sessions), for the wait before the next try. */
  private int failures;

  WorkerHealth(NodeWorkers node, String name, Logger log) {
    this.node = node;
    this.name = name;
    this.log = log;
  }

  /** A session is warming up (the first, or a new one after the actor restarted). */
  void warmingUp(boolean restarted) {
    node.down(name, restarted ? "restarted after a failure: warming up" : "warming up");
  }

  /** A session is warm: the worker is ready. */
  void ready() {
    node.ready(name);
    if (failures > 0) {
      log.info("worker {}: back with a new session", name);
    }
  }

  /** The actor restarts after a failure it did not expect. */
  void restarting() {
    node.down(name, "restarting after an unexpected failure");
  }

  void stopped() {
    node.down(name, "stopped");
  }

  /**
   * A session failed ({@code what}): the worker is not ready; returns the wait before a new one.
   */
  Duration failed(String what, EngineException cause) {
    failures++;
    long wait =
        Math.min(MAX_BACKOFF.toMillis(), MIN_BACKOFF.toMillis() << Math.min(20, failures - 1));
    node.down(
        name,
        what
            + ": "
            + cause.getMessage()
            + "; a new session in "
            + wait
            + " ms (try "
            + failures
            + ")");
    log.error(
        "worker {}: {}: {}; a new TensorFlow session in {} ms (failure {} in a row)",
        name,
        what,
        cause.getMessage(),
        wait,
        failures);
    return Duration.ofMillis(wait);
  }

  /** A run worked: the next failure waits {@link #MIN_BACKOFF} again. */
  void worked() {
    failures = 0;
  }
}

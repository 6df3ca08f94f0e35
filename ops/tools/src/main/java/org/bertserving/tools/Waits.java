package org.bertserving.tools;

import java.time.Duration;
import java.util.concurrent.Callable;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/** The tools' one way of waiting for a condition (Awaitility's polling), never a sleep loop. */
final class Waits {
  private Waits() {}

  /** Waits until {@code condition} holds; throws naming {@code what} after {@code atMost}. */
  static void until(String what, Duration atMost, Callable<Boolean> condition) {
    Awaitility.await(what)
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(20))
        .ignoreExceptions()
        .until(condition);
  }

  /** Whether {@code condition} came to hold within {@code atMost}. */
  static boolean within(Duration atMost, Callable<Boolean> condition) {
    try {
      until("a condition", atMost, condition);
      return true;
    } catch (ConditionTimeoutException e) {
      return false;
    }
  }
}

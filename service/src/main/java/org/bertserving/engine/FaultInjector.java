package org.bertserving.engine;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Faults on demand, for chaos runs: the engine consults it before every TensorFlow run. Off (and
 * free) unless an operator arms it through the management port with {@code bert-serving.chaos} on;
 * a real session still does the work of every run that is not failed.
 */
public final class FaultInjector {
  private final AtomicInteger failRuns = new AtomicInteger();
  private final AtomicReference<String> poison = new AtomicReference<>("");
  private final AtomicLong delayMillis = new AtomicLong();
  private final AtomicInteger failDeliveries = new AtomicInteger();
  private final AtomicInteger failPreparations = new AtomicInteger();

  /**
   * The next {@code deliveries} times a worker sends a job's rows, it fails instead with an
   * exception it does not expect (a bug, not the device): its supervisor restarts it.
   */
  public void failNextDeliveries(int deliveries) {
    failDeliveries.set(Math.max(0, deliveries));
  }

  /** Called by a worker before it sends a job's rows. */
  public void beforeDelivery() {
    if (failDeliveries.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new IllegalStateException("injected worker failure (chaos: fail-next-deliveries)");
    }
  }

  /**
   * The next {@code segments} times a worker reads a request's texts for a job, it fails instead
   * with an exception it does not expect (a bug in reading them, not bad input): that request is
   * answered with the error, and the worker goes on.
   */
  public void failNextPreparations(int segments) {
    failPreparations.set(Math.max(0, segments));
  }

  /** Called by a worker before it reads a request's texts. */
  public void beforePreparation() {
    if (failPreparations.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new IllegalStateException("injected worker failure (chaos: fail-next-preparations)");
    }
  }

  /** The next {@code runs} TensorFlow runs of this node fail. */
  public void failNextRuns(int runs) {
    failRuns.set(Math.max(0, runs));
  }

  /**
   * Every run holding a text that contains {@code text} (as the model sees it) fails; "" = none.
   */
  public void poison(String text) {
    poison.set(text == null ? "" : text.toLowerCase(java.util.Locale.ROOT));
  }

  /** Every run waits this long first (a stalled device). */
  public void delay(long millis) {
    delayMillis.set(Math.max(0, millis));
  }

  public void reset() {
    failRuns.set(0);
    failDeliveries.set(0);
    failPreparations.set(0);
    poison.set("");
    delayMillis.set(0);
  }

  /** Called before a run: throws {@link EngineException} when a fault is armed for it. */
  void beforeRun(List<InputFeatures> rows) {
    long delay = delayMillis.get();
    if (delay > 0) {
      try {
        Thread.sleep(delay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (failRuns.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new EngineException("injected engine failure (chaos: fail-next-runs)");
    }
    String p = poison.get();
    if (!p.isEmpty()) {
      for (InputFeatures row : rows) {
        if (String.join(" ", row.tokens()).replace(" ##", "").contains(p)) {
          throw new EngineException("injected engine failure (chaos: poison \"" + p + "\")");
        }
      }
    }
  }
}

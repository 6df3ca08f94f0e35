package org.bertserving.engine.tf;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.ModelBackend;

/**
 * A run of several texts shared out among threads, each running its texts on one session of one
 * intra-op thread (which TensorFlow runs in the caller's thread), a few texts a run, side by side:
 * as ONNX Runtime's in-process embedders run a batch. No thread waits for another inside a run, as
 * the threads of one session of several do at every op. Each thread takes every {@code threads}-th
 * text by length, so that the shares take alike, and pads each of its runs to its own longest text.
 * On the AMD EPYC (Zen 5) of the README, 2 threads, all-MiniLM-L6-v2 with plain products: batches
 * of 32 texts of 10-60 tokens at 281-290 rows/s against 169-180 on the sessions of two threads,
 * batches of 8 at 212-224 against 140-146.
 *
 * <p>The session is not this object's: {@link #close} stops its threads only.
 */
final class ParallelRuns implements ModelBackend {
  /** The most texts in one run of a thread: the one-thread session's sweet spot (4 against 16). */
  static final int TEXTS_A_RUN = 4;

  private static final AtomicInteger POOLS = new AtomicInteger();

  private final ModelBackend session;
  private final int threads;
  private final ExecutorService helpers;

  /**
   * @param session a session of one intra-op thread that runs in its caller's thread
   * @param threads how many run at once, the caller's among them
   */
  ParallelRuns(ModelBackend session, int threads) {
    if (threads < 2) {
      throw new IllegalArgumentException("parallel runs need 2 threads or more, not " + threads);
    }
    this.session = session;
    this.threads = threads;
    int pool = POOLS.incrementAndGet();
    AtomicInteger made = new AtomicInteger();
    this.helpers =
        Executors.newFixedThreadPool(
            threads - 1,
            r -> {
              Thread t = new Thread(r, "bert-parallel-runs-" + pool + "-" + made.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /** The session whose runs these are. */
  ModelBackend session() {
    return session;
  }

  @Override
  public BertConfig config() {
    return session.config();
  }

  /**
   * Shares out a run of several texts; a run of one text, or one padded past its own texts ({@code
   * batch} or {@code length} above them, as {@link SizedSessions} pads small runs), is one run on
   * the session, in the caller's thread.
   */
  @Override
  public float[][] run(List<InputFeatures> rows, int batch, int length) {
    int longest = rows.stream().mapToInt(InputFeatures::length).max().orElse(0);
    if (rows.size() < 2 || batch != rows.size() || length != longest) {
      return session.run(rows, batch, length);
    }
    List<Integer> byLength = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      byLength.add(i);
    }
    byLength.sort(Comparator.comparingInt((Integer i) -> rows.get(i).length()).reversed());
    int shares = Math.min(threads, rows.size());
    List<List<Integer>> share = new ArrayList<>();
    for (int t = 0; t < shares; t++) {
      share.add(new ArrayList<>());
    }
    for (int k = 0; k < byLength.size(); k++) {
      share.get(k % shares).add(byLength.get(k));
    }
    float[][] out = new float[rows.size()][];
    List<Future<?>> others = new ArrayList<>();
    Throwable failure = null;
    try {
      for (int t = 1; t < shares; t++) {
        List<Integer> mine = share.get(t);
        others.add(helpers.submit(() -> runShare(rows, mine, out)));
      }
      runShare(rows, share.get(0), out);
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    // every share ends before the run answers or fails, interrupted or not: none is left running
    // on the session
    boolean interrupted = false;
    for (Future<?> other : others) {
      while (true) {
        try {
          other.get();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException | CancellationException e) {
          Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
          if (failure == null) {
            failure = cause;
          } else {
            failure.addSuppressed(cause);
          }
          break;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (failure instanceof RuntimeException r) {
      throw r;
    }
    if (failure instanceof Error e) {
      throw e;
    }
    if (failure != null) {
      throw new IllegalStateException("a share of the run failed: " + failure, failure);
    }
    return out;
  }

  /** The texts {@code mine} of {@code rows}, {@link #TEXTS_A_RUN} a run, into {@code out}. */
  private void runShare(List<InputFeatures> rows, List<Integer> mine, float[][] out) {
    for (int from = 0; from < mine.size(); from += TEXTS_A_RUN) {
      List<Integer> part = mine.subList(from, Math.min(mine.size(), from + TEXTS_A_RUN));
      List<InputFeatures> run = new ArrayList<>(part.size());
      part.forEach(i -> run.add(rows.get(i)));
      float[][] got = session.run(run);
      for (int k = 0; k < part.size(); k++) {
        out[part.get(k)] = got[k];
      }
    }
  }

  @Override
  public int shapes() {
    return session.shapes();
  }

  @Override
  public int dim() {
    return session.dim();
  }

  /**
   * Stops the threads once the shares already handed to them have run (so that no run waits on a
   * share that never starts); the session stays open (it is its owner's to close).
   */
  @Override
  public void close() {
    helpers.shutdown();
    try {
      if (!helpers.awaitTermination(1, TimeUnit.MINUTES)) {
        helpers.shutdownNow();
      }
    } catch (InterruptedException e) {
      helpers.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}

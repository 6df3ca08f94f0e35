package org.bertserving.engine.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.ModelBackend;
import org.junit.jupiter.api.Test;

/**
 * A run's texts shared out among threads, each running its share on one real one-thread TensorFlow
 * session a few texts at a time: the same vectors as one run, every thread used, and a failure in
 * any share fails the run only once every share has ended.
 */
class ParallelRunsTest {

  private static EngineSettings oneThread() {
    return SizedSessionsTest.settings().toBuilder().intraOpThreads(1).build();
  }

  /** Texts of lengths 3 to 19 tokens, unordered. */
  private static List<InputFeatures> texts(int count) {
    List<InputFeatures> rows = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      rows.add(SizedSessionsTest.rows(i + 1, 3 + (i * 7) % 17).get(i));
    }
    return rows;
  }

  @Test
  void theTextsAreSharedOutAndAnswerAsOneRun() throws Exception {
    try (ModelBackend session = SizedSessionsTest.session(oneThread());
        Recording recorded = new Recording(session, i -> false);
        ParallelRuns parallel = new ParallelRuns(recorded, 2)) {
      List<InputFeatures> rows = texts(11);
      float[][] expected = session.run(rows);
      recorded.threads.clear();
      recorded.sizes.clear();
      float[][] got = parallel.run(rows);
      assertEquals(rows.size(), got.length);
      for (int r = 0; r < rows.size(); r++) {
        assertArrayEquals(expected[r], got[r], 1e-5f, "text " + r);
      }
      assertEquals(2, recorded.threads.size(), "runs in " + recorded.threads);
      assertTrue(
          recorded.threads.contains(Thread.currentThread().getName()), "the caller runs too");
      assertEquals(rows.size(), recorded.sizes.stream().mapToInt(Integer::intValue).sum());
      assertTrue(
          recorded.sizes.stream().allMatch(n -> n <= ParallelRuns.TEXTS_A_RUN),
          "texts a run: " + recorded.sizes);
      assertSame(session.config(), parallel.config());
    }
  }

  @Test
  void oneTextRunsInTheCallersThreadAlone() throws Exception {
    try (ModelBackend session = SizedSessionsTest.session(oneThread());
        Recording recorded = new Recording(session, i -> false);
        ParallelRuns parallel = new ParallelRuns(recorded, 2)) {
      List<InputFeatures> one = texts(1);
      assertArrayEquals(session.run(one)[0], parallel.run(one)[0], 1e-6f);
      assertEquals(Set.of(Thread.currentThread().getName()), recorded.threads);
    }
  }

  @Test
  void aFailedShareFailsTheRunOnceEveryShareHasEnded() throws Exception {
    try (ModelBackend session = SizedSessionsTest.session(oneThread());
        Recording failing = new Recording(session, length -> length == 3);
        ParallelRuns parallel = new ParallelRuns(failing, 2)) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> parallel.run(texts(9)));
      assertTrue(e.getMessage().startsWith("no run of a text of 3 tokens"), e.getMessage());
      assertEquals(0, failing.running.get(), "a share still running after the run failed");
      // and the next run is served
      assertEquals(3, parallel.run(texts(4).subList(1, 4)).length);
    }
  }

  @Test
  void fewerThanTwoThreadsIsRefused() throws Exception {
    try (ModelBackend session = SizedSessionsTest.session(oneThread())) {
      assertThrows(IllegalArgumentException.class, () -> new ParallelRuns(session, 1));
    }
  }

  /** A real session that remembers the threads and sizes of its runs, and may fail some. */
  private static final class Recording implements ModelBackend {
    private final ModelBackend session;
    private final java.util.function.IntPredicate failsOnLength;
    final Set<String> threads = ConcurrentHashMap.newKeySet();
    final List<Integer> sizes = new CopyOnWriteArrayList<>();
    final AtomicInteger running = new AtomicInteger();

    Recording(ModelBackend session, java.util.function.IntPredicate failsOnLength) {
      this.session = session;
      this.failsOnLength = failsOnLength;
    }

    @Override
    public float[][] run(List<InputFeatures> rows) {
      return run(rows, rows.size(), rows.stream().mapToInt(InputFeatures::length).max().orElse(0));
    }

    @Override
    public float[][] run(List<InputFeatures> rows, int batch, int length) {
      running.incrementAndGet();
      try {
        threads.add(Thread.currentThread().getName());
        sizes.add(rows.size());
        if (rows.stream().anyMatch(r -> failsOnLength.test(r.length()))) {
          throw new IllegalStateException("no run of a text of 3 tokens");
        }
        return session.run(rows, batch, length);
      } finally {
        running.decrementAndGet();
      }
    }

    @Override
    public BertConfig config() {
      return session.config();
    }

    @Override
    public int dim() {
      return session.dim();
    }

    @Override
    public int shapes() {
      return session.shapes();
    }

    @Override
    public void close() {}
  }
}

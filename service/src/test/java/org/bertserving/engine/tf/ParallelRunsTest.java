package org.bertserving.engine.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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
    try (Wrapped recorded = new Wrapped(SizedSessionsTest.session(oneThread()), rows -> false);
        ParallelRuns parallel = new ParallelRuns(recorded, 2)) {
      List<InputFeatures> rows = texts(11);
      float[][] expected = recorded.session.run(rows);
      float[][] got = parallel.run(rows);
      assertEquals(rows.size(), got.length);
      for (int r = 0; r < rows.size(); r++) {
        assertArrayEquals(expected[r], got[r], 1e-5f, "text " + r);
      }
      assertEquals(2, recorded.threads.size(), "runs in " + recorded.threads);
      assertTrue(
          recorded.threads.contains(Thread.currentThread().getName()), "the caller runs too");
      assertEquals(rows.size(), recorded.texts.stream().mapToInt(Integer::intValue).sum());
      assertTrue(
          recorded.texts.stream().allMatch(n -> n <= ParallelRuns.TEXTS_A_RUN),
          "texts a run: " + recorded.texts);
      assertSame(recorded.session.config(), parallel.config());
    }
  }

  @Test
  void oneTextRunsInTheCallersThreadAlone() throws Exception {
    try (Wrapped recorded = new Wrapped(SizedSessionsTest.session(oneThread()), rows -> false);
        ParallelRuns parallel = new ParallelRuns(recorded, 2)) {
      List<InputFeatures> one = texts(1);
      assertArrayEquals(recorded.session.run(one)[0], parallel.run(one)[0], 1e-6f);
      assertEquals(Set.of(Thread.currentThread().getName()), recorded.threads);
    }
  }

  /**
   * The caller's share fails in its second run (which holds the 5-token text), while the other
   * thread is in the second of its two runs of 20 ms each: the run fails only once that share has
   * ended, and the next run is served.
   */
  @Test
  void aFailedShareFailsTheRunOnceEveryShareHasEnded() throws Exception {
    // texts(13), longest first: 19 18 17 15 14 12 11 10 8 7 5 4 3 tokens; the caller runs
    // [19 17 14 11] then [8 5 3], the other thread [18 15 12 10] then [7 4]
    try (Wrapped failing =
            new Wrapped(
                SizedSessionsTest.session(oneThread()), rows -> true, length -> length == 5);
        ParallelRuns parallel = new ParallelRuns(failing, 2)) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> parallel.run(texts(13)));
      assertEquals("a run refused, as the test asked", e.getMessage());
      assertEquals(0, failing.running.get(), "a share still running after the run failed");
      assertEquals(13, failing.texts.stream().mapToInt(Integer::intValue).sum(), "texts run");
      assertEquals(3, parallel.run(texts(4).subList(1, 4)).length);
    }
  }

  /** The other thread's share fails (it holds the 17-token text): the run fails with its error. */
  @Test
  void anotherThreadsFailureIsTheRunsFailure() throws Exception {
    try (Wrapped failing =
            new Wrapped(
                SizedSessionsTest.session(oneThread()), rows -> false, length -> length == 17);
        ParallelRuns parallel = new ParallelRuns(failing, 2)) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> parallel.run(texts(9)));
      assertEquals("a run refused, as the test asked", e.getMessage());
      assertTrue(
          failing.threads.stream().anyMatch(t -> t.startsWith("bert-parallel-runs-")),
          "ran in " + failing.threads);
    }
  }

  @Test
  void fewerThanTwoThreadsIsRefused() throws Exception {
    try (ModelBackend session = SizedSessionsTest.session(oneThread())) {
      assertThrows(IllegalArgumentException.class, () -> new ParallelRuns(session, 1));
    }
  }
}

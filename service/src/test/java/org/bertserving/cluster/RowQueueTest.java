package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * How the frontend cuts jobs: small requests first, across requests, dead ones dropped, within a
 * character budget, failed segments retried alone.
 */
class RowQueueTest {

  /** Larger requests never go ahead of small ones: their deadlines are far. */
  static final long NEVER_URGENT = 1;

  static Job.Segment request(String id, int rows) {
    return request(id, rows, Long.MAX_VALUE);
  }

  static Job.Segment request(String id, int rows, long deadlineNanos) {
    return new Job.Segment(
        id,
        null,
        0,
        new ArrayList<>(Collections.nCopies(rows, "text")),
        null,
        deadlineNanos,
        0,
        org.bertserving.engine.CallOptions.DEFAULTS,
        false);
  }

  static List<String> ids(Job job) {
    return job.segments().stream()
        .map(s -> s.requestId() + "@" + s.offset() + "+" + s.size())
        .toList();
  }

  @Test
  void smallRequestsGoFirstAndJobsSpanRequests() {
    RowQueue q = new RowQueue(4, 8, 1_000_000, NEVER_URGENT);
    q.add(request("big", 10));
    q.add(request("small1", 2));
    q.add(request("small2", 3));
    assertEquals(15, q.rows());
    assertEquals(List.of("small1@0+2", "small2@0+3", "big@0+3"), ids(q.cut(s -> true, 0)));
    assertEquals(List.of("big@3+7"), ids(q.cut(s -> true, 0)));
    assertNull(q.cut(s -> true, 0));
    assertEquals(0, q.rows());
  }

  @Test
  void aLargeRequestGoesAheadOfSmallOnesOnceItWaitedAQuarterOfItsTime() {
    long second = 1_000_000_000L;
    RowQueue q = new RowQueue(4, 8, 1_000_000, RowQueue.urgentNanos(Duration.ofSeconds(10)));
    q.add(request("gone", 20, 10 * second));
    q.add(request("big", 10, 10 * second)); // arrived at 0 with a 10 s timeout
    q.add(request("later", 5, 20 * second)); // larger too, but arrived at 10 s
    Predicate<Job.Segment> live = s -> !s.requestId().equals("gone");
    for (int i = 0; i < 3; i++) {
      q.add(request("small" + i, 3, 11 * second));
    }
    assertEquals(List.of("small0@0+3", "small1@0+3", "small2@0+2"), ids(q.cut(live, second)));
    assertEquals(1 + 10 + 5, q.rows(), "the finished request's rows left, though never reached");
    for (int i = 3; i < 9; i++) {
      q.add(request("small" + i, 3, 12 * second));
    }
    // 7.5 s of its 10 left: the small ones still go first
    assertEquals("small2@2+1", ids(q.cut(live, 2_500_000_000L)).get(0));
    // less: it goes ahead, and stays ahead until it is all in jobs
    assertEquals(List.of("big@0+8"), ids(q.cut(live, 2_600_000_000L)));
    assertEquals(
        List.of("big@8+2", "small5@1+2", "small6@0+3", "small7@0+1"),
        ids(q.cut(live, 2_700_000_000L)));
    // and the larger one behind it waits for its own turn, after the small ones before it
    assertEquals(
        List.of("small7@1+2", "small8@0+3", "later@0+3"), ids(q.cut(live, 2_800_000_000L)));
  }

  @Test
  void aLostWorkersRowsGoEvenBeforeAnUrgentRequest() {
    long second = 1_000_000_000L;
    RowQueue q = new RowQueue(4, 8, 1_000_000, RowQueue.urgentNanos(Duration.ofSeconds(10)));
    q.add(request("small", 2, 10 * second));
    Job lost = q.cut(s -> true, 0);
    q.add(request("big", 10, 10 * second));
    q.requeueFirst(List.of(lost));
    assertEquals(List.of("small@0+2", "big@0+6"), ids(q.cut(s -> true, 5 * second)));
  }

  @Test
  void deadRequestsAreDroppedAndLostJobsComeBackFirst() {
    RowQueue q = new RowQueue(4, 8, 1_000_000, NEVER_URGENT);
    q.add(request("gone", 6));
    q.add(request("alive", 6));
    Job job = q.cut(s -> !s.requestId().equals("gone"), 0);
    assertEquals(List.of("alive@0+6"), ids(job));
    q.add(request("later", 5));
    q.requeueFirst(List.of(job));
    assertEquals(List.of("alive@0+6", "later@0+2"), ids(q.cut(s -> true, 0)));
  }

  @Test
  void jobsStayWithinTheCharacterBudgetButAlwaysTakeOneRow() {
    RowQueue q = new RowQueue(1, 100, 10, NEVER_URGENT); // "text" is 4 characters: two rows a job
    q.add(request("r", 5));
    assertEquals(List.of("r@0+2"), ids(q.cut(s -> true, 0)));
    assertEquals(List.of("r@2+2"), ids(q.cut(s -> true, 0)));
    assertEquals(List.of("r@4+1"), ids(q.cut(s -> true, 0)));
    RowQueue tight =
        new RowQueue(1, 100, 3, NEVER_URGENT); // a row over the budget still travels, alone
    tight.add(request("long", 2));
    assertEquals(List.of("long@0+1"), ids(tight.cut(s -> true, 0)));
  }

  @Test
  void failedSegmentsAreRetriedAloneBeforeAnythingElse() {
    RowQueue q = new RowQueue(4, 8, 1_000_000, NEVER_URGENT);
    q.add(request("poison", 2));
    q.add(request("innocent", 2));
    Job both = q.cut(s -> true, 0);
    assertEquals(List.of("poison@0+2", "innocent@0+2"), ids(both));
    q.add(request("new", 3));
    q.retryAlone(both.segments().stream().map(Job.Segment::failedOnce).toList());
    Job first = q.cut(s -> true, 0);
    assertEquals(List.of("poison@0+2"), ids(first));
    assertEquals(1, first.segments().get(0).failures());
    assertEquals(List.of("innocent@0+2"), ids(q.cut(s -> true, 0)));
    assertEquals(List.of("new@0+3"), ids(q.cut(s -> true, 0)));
  }
}

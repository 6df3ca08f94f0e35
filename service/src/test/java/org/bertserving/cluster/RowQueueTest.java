package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How the frontend cuts jobs: small requests first, across requests, dead ones dropped, within a
 * character budget, failed segments retried alone.
 */
class RowQueueTest {

  static Job.Segment request(String id, int rows) {
    return new Job.Segment(
        id,
        null,
        0,
        new ArrayList<>(Collections.nCopies(rows, "text")),
        null,
        Long.MAX_VALUE,
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
    RowQueue q = new RowQueue(4, 8, 1_000_000);
    q.add(request("big", 10));
    q.add(request("small1", 2));
    q.add(request("small2", 3));
    assertEquals(15, q.rows());
    assertEquals(List.of("small1@0+2", "small2@0+3", "big@0+3"), ids(q.cut(s -> true)));
    assertEquals(List.of("big@3+7"), ids(q.cut(s -> true)));
    assertNull(q.cut(s -> true));
    assertEquals(0, q.rows());
  }

  @Test
  void deadRequestsAreDroppedAndLostJobsComeBackFirst() {
    RowQueue q = new RowQueue(4, 8, 1_000_000);
    q.add(request("gone", 6));
    q.add(request("alive", 6));
    Job job = q.cut(s -> !s.requestId().equals("gone"));
    assertEquals(List.of("alive@0+6"), ids(job));
    q.add(request("later", 5));
    q.requeueFirst(List.of(job));
    assertEquals(List.of("alive@0+6", "later@0+2"), ids(q.cut(s -> true)));
  }

  @Test
  void jobsStayWithinTheCharacterBudgetButAlwaysTakeOneRow() {
    RowQueue q = new RowQueue(1, 100, 10); // "text" is 4 characters: two rows a job
    q.add(request("r", 5));
    assertEquals(List.of("r@0+2"), ids(q.cut(s -> true)));
    assertEquals(List.of("r@2+2"), ids(q.cut(s -> true)));
    assertEquals(List.of("r@4+1"), ids(q.cut(s -> true)));
    RowQueue tight = new RowQueue(1, 100, 3); // a row over the budget still travels, alone
    tight.add(request("long", 2));
    assertEquals(List.of("long@0+1"), ids(tight.cut(s -> true)));
  }

  @Test
  void failedSegmentsAreRetriedAloneBeforeAnythingElse() {
    RowQueue q = new RowQueue(4, 8, 1_000_000);
    q.add(request("poison", 2));
    q.add(request("innocent", 2));
    Job both = q.cut(s -> true);
    assertEquals(List.of("poison@0+2", "innocent@0+2"), ids(both));
    q.add(request("new", 3));
    q.retryAlone(both.segments().stream().map(Job.Segment::failedOnce).toList());
    Job first = q.cut(s -> true);
    assertEquals(List.of("poison@0+2"), ids(first));
    assertEquals(1, first.segments().get(0).failures());
    assertEquals(List.of("innocent@0+2"), ids(q.cut(s -> true)));
    assertEquals(List.of("new@0+3"), ids(q.cut(s -> true)));
  }
}

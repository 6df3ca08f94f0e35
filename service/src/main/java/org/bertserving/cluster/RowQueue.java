package org.bertserving.cluster;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The frontend's rows that are not yet in a job, plain Java: two queues (requests under {@code
 * priority_batch_size} rows go first, until a larger request has waited long enough to go ahead of
 * them), cut into jobs of at most {@code max_batch_size} rows and a character budget (so that a job
 * fits one message between nodes) across requests, segments of dead requests dropped, jobs of a
 * lost worker put back in front. Rows an engine failed on are retried alone, one segment a job, so
 * that a poisonous request cannot fail its neighbours twice.
 */
final class RowQueue {
  /** A request's rows that are not yet in a job. */
  private static final class Queued {
    final Job.Segment segment;
    int taken;

    Queued(Job.Segment segment) {
      this.segment = segment;
    }

    int remaining() {
      return segment.size() - taken;
    }
  }

  private final ArrayDeque<Job.Segment> retries = new ArrayDeque<>();

  /** The rows of jobs whose worker was lost: before any request still waiting its first turn. */
  private final ArrayDeque<Queued> requeued = new ArrayDeque<>();

  private final ArrayDeque<Queued> priority = new ArrayDeque<>();
  private final ArrayDeque<Queued> normal = new ArrayDeque<>();
  private final int priorityBatchSize;
  private final int maxBatchSize;
  private final long maxJobChars;
  private final long urgentNanos;

  /**
   * @param urgentNanos a larger request whose time left is below this goes ahead of the small ones.
   *     Without it, small requests that keep every worker busy held a large one back until it timed
   *     out, while admission (which counts the queue as first come, first served) kept admitting
   *     more of them.
   */
  RowQueue(int priorityBatchSize, int maxBatchSize, long maxJobChars, long urgentNanos) {
    this.priorityBatchSize = priorityBatchSize;
    this.maxBatchSize = maxBatchSize;
    this.maxJobChars = maxJobChars;
    this.urgentNanos = urgentNanos;
  }

  /**
   * The time left below which a larger request goes ahead of the small ones: when it has waited a
   * quarter of the request timeout.
   */
  static long urgentNanos(java.time.Duration requestTimeout) {
    return requestTimeout.toNanos() - requestTimeout.toNanos() / 4;
  }

  void add(Job.Segment request) {
    (request.size() < priorityBatchSize ? priority : normal).add(new Queued(request));
  }

  /** The segments of unfinished jobs, first in line again, in their order. */
  void requeueFirst(List<Job> jobs) {
    for (int i = jobs.size() - 1; i >= 0; i--) {
      List<Job.Segment> segments = jobs.get(i).segments();
      for (int j = segments.size() - 1; j >= 0; j--) {
        requeued.addFirst(new Queued(segments.get(j)));
      }
    }
  }

  /** Segments an engine failed on: each becomes a job of its own, before anything else. */
  void retryAlone(List<Job.Segment> segments) {
    for (int i = segments.size() - 1; i >= 0; i--) {
      retries.addFirst(segments.get(i));
    }
  }

  /**
   * One job, or {@code null} when nothing waits.
   *
   * @param live whether a segment's request still waits (not finished, not past its deadline)
   * @param nowNanos {@link System#nanoTime()}, against the segments' deadlines
   */
  Job cut(Predicate<Job.Segment> live, long nowNanos) {
    while (!retries.isEmpty()) {
      Job.Segment retry = retries.poll();
      if (live.test(retry)) {
        return new Job(List.of(retry));
      }
    }
    while (!normal.isEmpty() && !live.test(normal.peek().segment)) {
      normal.poll(); // its request finished or timed out: its rows go, reached or not
    }
    // an urgent larger request goes ahead of the small ones that came after it, alone: the
    // larger ones behind it wait for their own turn
    boolean urgentFirst =
        !normal.isEmpty()
            && urgent(normal.peek(), nowNanos)
            && (priority.isEmpty()
                || normal.peek().segment.deadlineNanos()
                    <= priority.peek().segment.deadlineNanos());
    List<ArrayDeque<Queued>> order =
        urgentFirst
            ? List.of(requeued, normal, priority, normal)
            : List.of(requeued, priority, normal);
    List<Job.Segment> segments = new ArrayList<>();
    int room = maxBatchSize;
    long chars = 0;
    for (int pass = 0; pass < order.size(); pass++) {
      ArrayDeque<Queued> queue = order.get(pass);
      boolean urgentOnly = urgentFirst && pass == 1;
      while (room > 0 && !queue.isEmpty()) {
        Queued q = queue.peek();
        if (!live.test(q.segment)) {
          queue.poll(); // finished or timed out meanwhile: never computed for nobody
          continue;
        }
        if (urgentOnly && !urgent(q, nowNanos)) {
          break;
        }
        int take = 0;
        while (take < Math.min(room, q.remaining())) {
          long row = q.segment.chars(q.taken + take);
          if (chars + row > maxJobChars && (chars > 0 || take > 0)) {
            break;
          }
          chars += row;
          take++;
        }
        if (take == 0) {
          room = 0; // the character budget is spent: the job is full
          break;
        }
        segments.add(q.segment.slice(q.taken, q.taken + take));
        q.taken += take;
        room -= take;
        if (q.remaining() == 0) {
          queue.poll();
        }
      }
    }
    return segments.isEmpty() ? null : new Job(List.copyOf(segments));
  }

  private boolean urgent(Queued q, long nowNanos) {
    return q.segment.deadlineNanos() - nowNanos < urgentNanos;
  }

  long rows() {
    long rows = 0;
    for (Job.Segment retry : retries) {
      rows += retry.size();
    }
    for (ArrayDeque<Queued> queue : List.of(requeued, priority, normal)) {
      for (Queued q : queue) {
        rows += q.remaining();
      }
    }
    return rows;
  }
}

package org.bertserving.cluster;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The frontend's rows that are not yet in a job, plain Java: two queues (requests under
 * {@code priority_batch_size} rows go first), cut into jobs of at most {@code max_batch_size} rows
 * across requests, segments of dead requests dropped, jobs of a lost worker put back in front.
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

  private final ArrayDeque<Queued> priority = new ArrayDeque<>();
  private final ArrayDeque<Queued> normal = new ArrayDeque<>();
  private final int priorityBatchSize;
  private final int maxBatchSize;

  RowQueue(int priorityBatchSize, int maxBatchSize) {
    this.priorityBatchSize = priorityBatchSize;
    this.maxBatchSize = maxBatchSize;
  }

  void add(Job.Segment request) {
    (request.size() < priorityBatchSize ? priority : normal).add(new Queued(request));
  }

  /** The segments of unfinished jobs, first in line again, in their order. */
  void requeueFirst(List<Job> jobs) {
    for (int i = jobs.size() - 1; i >= 0; i--) {
      List<Job.Segment> segments = jobs.get(i).segments();
      for (int j = segments.size() - 1; j >= 0; j--) {
        priority.addFirst(new Queued(segments.get(j)));
      }
    }
  }

  /**
   * One job, or {@code null} when nothing waits.
   *
   * @param live whether a segment's request still waits (not finished, not past its deadline)
   */
  Job cut(Predicate<Job.Segment> live) {
    List<Job.Segment> segments = new ArrayList<>();
    int room = maxBatchSize;
    for (ArrayDeque<Queued> queue : List.of(priority, normal)) {
      while (room > 0 && !queue.isEmpty()) {
        Queued q = queue.peek();
        if (!live.test(q.segment)) {
          queue.poll(); // finished or timed out meanwhile: never computed for nobody
          continue;
        }
        int take = Math.min(room, q.remaining());
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

  long rows() {
    long rows = 0;
    for (ArrayDeque<Queued> queue : List.of(priority, normal)) {
      for (Queued q : queue) {
        rows += q.remaining();
      }
    }
    return rows;
  }
}

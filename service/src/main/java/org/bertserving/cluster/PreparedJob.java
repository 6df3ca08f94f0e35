package org.bertserving.cluster;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.Featurizer.Featurized;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.InvalidInputException;

/**
 * A job tokenized and ready for its TensorFlow run: what a worker prepares while the run before it
 * still computes. Segments whose request timed out are left out (never computed for nobody) and
 * their requests told so; a segment with bad input is answered at once with its error.
 */
final class PreparedJob {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PreparedJob.class);

  final Worker.Assignment assignment;
  final List<Job.Segment> live = new ArrayList<>();
  final List<Featurized> features = new ArrayList<>();
  final List<InputFeatures> rows = new ArrayList<>();

  private PreparedJob(Worker.Assignment assignment) {
    this.assignment = assignment;
  }

  /**
   * @param worker this worker's name, for the requests whose time ran out before it ran them
   */
  static PreparedJob prepare(Worker.Assignment assignment, BertEncoder encoder, String worker) {
    PreparedJob job = new PreparedJob(assignment);
    long now = System.nanoTime();
    for (Job.Segment segment : assignment.job().arrived(now).segments()) {
      if (segment.expired(now)) {
        timedOut(segment, worker);
        continue;
      }
      try {
        encoder.faults().beforePreparation();
        segment.options().width(encoder.dim()); // dimensions out of range: refused before any run
        Featurized f =
            encoder
                .featurizer()
                .featurize(segment.inputs(), segment.isTokenized(), segment.options());
        job.live.add(segment);
        job.features.add(f);
        job.rows.addAll(f.rows());
      } catch (InvalidInputException e) {
        segment.fail(400, "invalid_input", e.shifted(segment.offset()).getMessage());
      } catch (RuntimeException e) {
        // a bug in reading these texts: their request fails with it, the job's other requests
        // and the worker go on (thrown further, it would restart the worker with this job lost)
        LOG.error(
            "worker {} could not read the texts of request {}", worker, segment.requestId(), e);
        segment.fail(
            500,
            "engine_error",
            "worker "
                + worker
                + " could not read texts "
                + segment.offset()
                + "-"
                + (segment.offset() + segment.size() - 1)
                + " of the request: "
                + e);
      }
    }
    return job;
  }

  /**
   * Whether no segment's request waits any more (they may time out in the queue); if so, each is
   * told why.
   */
  boolean expired(String worker) {
    long now = System.nanoTime();
    if (!live.stream().allMatch(s -> s.expired(now))) {
      return false;
    }
    live.forEach(s -> timedOut(s, worker));
    return true;
  }

  private static void timedOut(Job.Segment segment, String worker) {
    segment.fail(
        504, "timeout", "the request timed out before worker " + worker + " could run its rows");
  }

  long tokens() {
    return rows.stream().mapToLong(InputFeatures::length).sum();
  }

  /**
   * Sends each segment its rows: the rows of several requests ran together, each gets its own
   * normalization and dimensions; a row array is handed on, never copied again.
   */
  void deliver(float[][] vectors, BertEncoder encoder, ResultChunker chunker) {
    int next = 0;
    for (int s = 0; s < live.size(); s++) {
      Featurized f = features.get(s);
      int n = f.rows().size();
      Job.Segment segment = live.get(s);
      float[][] own =
          encoder.output(Arrays.copyOfRange(vectors, next, next + n), segment.options());
      chunker.send(segment, f, own, 0, segment.options().width(encoder.dim()));
      next += n;
    }
  }
}

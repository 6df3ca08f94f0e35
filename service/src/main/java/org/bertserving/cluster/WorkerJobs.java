package org.bertserving.cluster;

import akka.actor.typed.ActorRef;
import java.util.ArrayDeque;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineException;

/**
 * The jobs one worker holds, plain Java on the worker's thread (but {@link #deliver}, which the
 * engine's thread may call): tokenized ones waiting for the run in progress to end (at most {@code
 * prefetch_size - 1}), the one whose TensorFlow run is in progress (a small job's rows are sent
 * from the engine's thread), one whose rows are not all sent yet; and what the worker tells their
 * frontends of them (done, failed, given back untried). One per worker instance: a restart gives
 * back all it held.
 */
final class WorkerJobs {
  /** The most rows of a job whose pooled rows the engine's thread sends itself. */
  static final int ENGINE_SENDS_ROWS = 64;

  private final ActorRef<Worker.Command> worker;
  private final String name;
  private final BertEncoder encoder;
  private final ResultChunker chunker;

  private final ArrayDeque<PreparedJob> waiting = new ArrayDeque<>();

  /** The job whose TensorFlow run is in progress, or {@code null}. */
  private PreparedJob running;

  /** The job whose rows are not all sent (being sent, or failed to), or {@code null}. */
  private PreparedJob undelivered;

  /**
   * @param name the worker's name, as its frontends and the requests' errors know it
   * @param chunker cuts results for aggregators on other nodes
   */
  WorkerJobs(
      ActorRef<Worker.Command> worker, String name, BertEncoder encoder, ResultChunker chunker) {
    this.worker = worker;
    this.name = name;
    this.encoder = encoder;
    this.chunker = chunker;
  }

  /**
   * Tokenizes a job now (the run before it may still compute): it waits for its turn; one without a
   * row left to run is done at once.
   */
  void add(Worker.Assignment assignment) {
    PreparedJob job = PreparedJob.prepare(assignment, encoder, name);
    if (job.rows.isEmpty()) {
      done(job, 0, 0);
    } else {
      waiting.add(job);
    }
  }

  /**
   * The job whose run starts now, or {@code null} while one runs or none waits. A job whose
   * requests all timed out while it waited is done, not computed for nobody.
   */
  PreparedJob start() {
    while (running == null && !waiting.isEmpty()) {
      PreparedJob job = waiting.poll();
      if (job.expired(name)) {
        done(job, 0, 0);
        continue;
      }
      running = job;
      return job;
    }
    return null;
  }

  /** The computation in progress ended, whether it worked or not. */
  void computed() {
    running = null;
  }

  /** A run failed on {@code job}: its frontend is told; the jobs behind it, not tried, go back. */
  void failed(PreparedJob job, EngineException cause) {
    Worker.Assignment assignment = job.assignment;
    assignment
        .frontend()
        .tell(new Frontend.JobFailed(assignment.jobId(), worker, name, cause.getMessage()));
    waiting.forEach(waited -> giveBack(waited.assignment));
    waiting.clear();
  }

  /**
   * Whether the engine's thread sends {@code job}'s rows itself, right after its run: pooled rows
   * of a small job, which take little to normalize and send (on a GPU the device would wait for
   * it).
   */
  boolean sentByEngine(PreparedJob job) {
    return !encoder.settings().poolingStrategy().isTokenLevel()
        && job.rows.size() <= ENGINE_SENDS_ROWS;
  }

  /**
   * Sends each segment of {@code job} its rows, on the engine's thread right after the run, or on
   * the worker's: it reads only what the job and the engine hold, never this object's state.
   */
  void deliver(PreparedJob job, float[][] vectors) {
    encoder.faults().beforeDelivery();
    job.deliver(vectors, encoder, chunker);
  }

  /** {@code job}'s rows were sent: its frontend is told the job is done. */
  void delivered(PreparedJob job, WorkerEngine.Computed computed) {
    undelivered = null;
    done(job, computed.nanos(), computed.tfRuns());
  }

  /**
   * {@code job}'s rows are not all sent (their sending failed, or is about to start on the worker's
   * thread): a restart meanwhile gives the job back.
   */
  void undelivered(PreparedJob job) {
    undelivered = job;
  }

  /** The ids of the jobs of {@code frontend} this worker holds: waiting, running, being sent. */
  java.util.List<Long> heldFor(ActorRef<Frontend.Command> frontend) {
    java.util.List<Long> held = new java.util.ArrayList<>();
    for (PreparedJob job : waiting) {
      if (job.assignment.frontend().equals(frontend)) {
        held.add(job.assignment.jobId());
      }
    }
    for (PreparedJob job : new PreparedJob[] {running, undelivered}) {
      if (job != null && job.assignment.frontend().equals(frontend)) {
        held.add(job.assignment.jobId());
      }
    }
    return held;
  }

  /** The worker restarts: every job it holds goes back to its frontend. */
  void giveBackAll() {
    // aggregators keep the first copy of a row: rows of a job half delivered may come twice
    for (PreparedJob held : new PreparedJob[] {undelivered, running}) {
      if (held != null) {
        giveBack(held.assignment);
      }
    }
    waiting.forEach(job -> giveBack(job.assignment));
  }

  /** A job this worker will not run: its frontend sends it to another worker first. */
  void giveBack(Worker.Assignment assignment) {
    assignment.frontend().tell(new Frontend.JobReturned(assignment.jobId(), worker));
  }

  private void done(PreparedJob job, long nanos, long tfRuns) {
    Worker.Assignment assignment = job.assignment;
    assignment
        .frontend()
        .tell(
            new Frontend.JobDone(
                assignment.jobId(), worker, name, job.rows.size(), job.tokens(), tfRuns, nanos));
  }
}

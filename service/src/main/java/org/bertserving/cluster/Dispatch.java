package org.bertserving.cluster;

import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.ActorContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The frontend's workers and the rows waiting for them, plain Java on the frontend's thread: cuts
 * jobs for workers with room ({@link WorkerRegistry}, {@link RowQueue}), and puts back the jobs of
 * a worker that failed, gave them back or left. Everything one set of interchangeable workers
 * needs: the workers of one model ({@link Models} holds one per model served), with that model's
 * admission (its own workers' speed and backlog).
 */
final class Dispatch {
  /** Engine failures a row may see before its request fails. */
  static final int MAX_FAILURES = 2;

  private final String model;
  private final boolean tokenLevel;
  private final WorkerRegistry<ActorRef<Worker.Command>> workers;
  private final RowQueue queue;
  private final Admission admission;
  private final Metrics metrics;
  private final ActorContext<Frontend.Command> context;

  /** Whether a request still waits for its rows (not finished yet). */
  private final Predicate<String> waiting;

  /**
   * @param model the name of the model all these workers serve
   * @param maxJobChars the characters a job may carry (it must fit one message between nodes)
   * @param admission this model's
   * @param context the frontend's: workers answer it
   */
  Dispatch(
      String model,
      boolean tokenLevel,
      ServingSettings settings,
      long maxJobChars,
      Admission admission,
      Metrics metrics,
      ActorContext<Frontend.Command> context,
      Predicate<String> waiting) {
    this.model = model;
    this.tokenLevel = tokenLevel;
    this.workers = new WorkerRegistry<>(settings.prefetchSize());
    this.queue =
        new RowQueue(
            settings.priorityBatchSize(),
            settings.engine().maxBatchSize(),
            maxJobChars,
            RowQueue.urgentNanos(settings.requestTimeout()));
    this.admission = admission;
    this.metrics = metrics;
    this.context = context;
    this.waiting = waiting;
  }

  String model() {
    return model;
  }

  /** Whether the model answers token vectors, as its first worker described it. */
  boolean tokenLevel() {
    return tokenLevel;
  }

  Admission admission() {
    return admission;
  }

  /** Workers registered (reachable, described). */
  int size() {
    return workers.size();
  }

  /** Why no request can be taken now (no worker can run it), or {@code null}. */
  String unavailable() {
    if (workers.size() == 0) {
      return "no worker of model '" + model + "' is reachable: every node serving it left or died";
    }
    if (workers.allRecovering()) {
      return "every worker of model '"
          + model
          + "' is opening a new TensorFlow session after an engine failure";
    }
    return null;
  }

  /** A worker listed and described as serving this model: it may take jobs now. */
  void joined(Frontend.WorkerDescription description) {
    workers.add(description.worker());
    described(description, false);
  }

  /** A request's rows, to be cut into jobs. */
  void add(Job.Segment rows) {
    queue.add(rows);
  }

  /** Gives jobs to workers with room, least loaded first, while rows are waiting. */
  void dispatch() {
    while (true) {
      ActorRef<Worker.Command> worker = workers.pick();
      if (worker == null) {
        break;
      }
      long now = System.nanoTime();
      Job job = queue.cut(s -> waiting.test(s.requestId()) && !s.expired(now), now);
      if (job == null) {
        break;
      }
      long jobId = workers.assign(worker, job);
      metrics.jobRows.observe(job.rows());
      worker.tell(new Worker.Assignment(jobId, job.leaving(now), context.getSelf()));
    }
  }

  /**
   * What a worker says it holds ({@link Frontend.JobsHeld}): a job given to it before it was asked
   * that it does not hold was lost between nodes, or its report was. Its room is free again and its
   * rows go again, first, where their requests still wait (rows of requests that no longer wait are
   * dropped when cut; aggregators keep the first copy of a row): admission still counts them, as
   * rows not yet computed. A hung worker still holds its jobs and gets no more.
   */
  void held(Frontend.JobsHeld held) {
    List<Job> lost = workers.unheld(held.worker(), held.upTo(), held.held());
    queue.requeueFirst(lost);
    for (Job job : lost) {
      metrics.unreportedJobs.increment();
      context
          .getLog()
          .warn(
              "worker {} does not hold a job of {} row(s) it never reported (the report, or the"
                  + " job, was lost between nodes): its room is free, its rows go again if awaited",
              workerName(held.worker()),
              job.rows());
    }
  }

  void describeAll() {
    workers
        .workers()
        .forEach(w -> w.tell(new Worker.Describe(context.getSelf(), workers.nextJobId())));
  }

  void done(Frontend.JobDone done) {
    Job job = workers.ended(done.worker(), done.jobId());
    if (job != null) {
      for (Job.Segment segment : job.segments()) {
        admission.progressed(segment.requestId(), segment.size());
      }
      admission.observed(done.worker(), done.tokens(), done.nanos());
    }
    if (workers.workers().contains(done.worker())) {
      // a worker gone keeps no series: a late reply of its must not bring them back
      metrics.workerJobDone(model, done);
    }
  }

  /**
   * A worker recovers from an engine failure: no new job for it (and no share of the admitted work)
   * until its new session describes itself, which it does when asked now.
   */
  private void recovering(ActorRef<Worker.Command> worker) {
    if (workers.recovering(worker)) {
      admission.workerLeft(worker);
      worker.tell(new Worker.Describe(context.getSelf(), workers.nextJobId()));
    }
  }

  /**
   * Rows an engine failed on go again, alone; rows that failed {@link #MAX_FAILURES} times fail.
   */
  void failed(Frontend.JobFailed failed) {
    metrics.engineFailures.increment();
    recovering(failed.worker());
    Job job = workers.ended(failed.worker(), failed.jobId());
    if (job == null) {
      return;
    }
    List<Job.Segment> again = new ArrayList<>();
    for (Job.Segment segment : job.segments()) {
      Job.Segment failedOnce = segment.failedOnce();
      if (failedOnce.failures() >= MAX_FAILURES) {
        segment.fail(
            500,
            "engine_error",
            "encoding failed on "
                + MAX_FAILURES
                + " attempts; the last, on worker "
                + failed.workerName()
                + ": "
                + failed.cause());
      } else {
        again.add(failedOnce);
      }
    }
    context
        .getLog()
        .warn(
            "worker {} failed a job of {} row(s): {}; trying {} segment(s) again",
            failed.workerName(),
            job.rows(),
            failed.cause(),
            again.size());
    queue.retryAlone(again);
  }

  void returned(Frontend.JobReturned returned) {
    // given back untried: the worker is recovering (this frontend may not have seen it fail)
    recovering(returned.worker());
    Job job = workers.ended(returned.worker(), returned.jobId());
    if (job != null) {
      queue.requeueFirst(List.of(job));
    }
  }

  /** Whether {@code worker} was recovering and is back now (its new session described itself). */
  boolean back(ActorRef<Worker.Command> worker) {
    return workers.back(worker);
  }

  /**
   * What a worker says it is; returns whether it is registered (a worker gone is not described).
   */
  boolean described(Frontend.WorkerDescription description, boolean back) {
    if (!workers.workers().contains(description.worker())) {
      return false;
    }
    if (workers.described(description.worker(), description, back)) {
      admission.workerJoined(description.worker(), description.tokensPerSecond());
    }
    metrics.workerDescribed(description);
    return true;
  }

  /**
   * The reachable workers as the Receptionist lists them: new ones are asked who they are, the
   * unfinished jobs of missing ones go first to the others.
   */
  void listed(Set<ActorRef<Worker.Command>> listing) {
    List<WorkerRegistry.Gone<ActorRef<Worker.Command>>> left = new ArrayList<>();
    for (ActorRef<Worker.Command> joined : workers.listed(listing, left)) {
      joined.tell(new Worker.Describe(context.getSelf(), workers.nextJobId()));
    }
    left.forEach(this::gone);
    if (!left.isEmpty()) {
      context.getLog().info("model {}: {} worker(s) reachable: {}", model, size(), perNode());
    }
  }

  /** A worker stopped, or its node left, crashed or became unreachable. */
  private void gone(WorkerRegistry.Gone<ActorRef<Worker.Command>> gone) {
    metrics.workerLeft(
        model, gone.description() != null ? gone.description().name() : workerName(gone.worker()));
    admission.workerLeft(gone.worker());
    if (!gone.jobs().isEmpty()) {
      context
          .getLog()
          .warn(
              "worker {} is gone with {} unfinished job(s): sending them again",
              gone.worker().path(),
              gone.jobs().size());
      queue.requeueFirst(gone.jobs());
    }
  }

  /** A worker's name as it gives it ({@link Worker}: its node's address and its actor's name). */
  private String workerName(ActorRef<Worker.Command> worker) {
    akka.actor.Address node = worker.path().address();
    return (node.hasGlobalScope() ? node : context.getSystem().address())
        + "/"
        + worker.path().name();
  }

  /** Rows not yet in a job. */
  long queuedRows() {
    return queue.rows();
  }

  Map<String, Integer> perNode() {
    return workers.perNode(w -> w.path().address().toString());
  }

  /** Each worker for {@code /status/server}. */
  List<Map<String, Object>> status() {
    List<Map<String, Object>> status = workers.status(w -> w.path().toString());
    status.forEach(w -> w.put("model", model));
    return status;
  }
}

package org.bertserving.cluster;

import akka.actor.NoSerializationVerificationNeeded;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.client.protocol.StatusReply;
import org.bertserving.client.protocol.WireMessage;

/**
 * Takes requests, validates them, admits them by the work they bring against the speed it measures
 * of its workers ({@link Admission}), gives each an {@link Aggregator}, and queues their rows. Work
 * distribution is demand-driven and cluster-aware: workers on any node register with the
 * Receptionist; a worker holds at most {@code prefetch_size} jobs; a job is cut only when a worker
 * has room, from the rows of all waiting requests, small requests first, so rows of many small
 * requests share one job and one TensorFlow run. The jobs of a worker that stops, leaves or becomes
 * unreachable are queued again (the aggregators drop rows that arrive twice); rows whose engine
 * failed are tried once more, alone, and fail their request if they fail again.
 */
public final class Frontend extends AbstractBehavior<Frontend.Command> {
  public interface Command {}

  /** Encode texts; the answer goes to {@code replyTo} exactly once. */
  public record Encode(EncodeRequest request, ActorRef<EncodeOutcome> replyTo)
      implements Command, WireMessage {}

  /** Configuration and statistics. */
  public record GetStatus(ActorRef<StatusReply> replyTo) implements Command, WireMessage {}

  /** A worker finished a job: it has room again. */
  public record JobDone(
      long jobId,
      ActorRef<Worker.Command> worker,
      String workerName,
      int rows,
      long tokens,
      long runs,
      long nanos)
      implements Command, WireMessage {}

  /** A worker's engine failed on a job; the worker restarts with a new session. */
  public record JobFailed(
      long jobId, ActorRef<Worker.Command> worker, String workerName, String cause)
      implements Command, WireMessage {}

  /** A worker gives back a job it has not tried (it is restarting): it goes first to any worker. */
  public record JobReturned(long jobId, ActorRef<Worker.Command> worker)
      implements Command, WireMessage {}

  /**
   * What a worker is: its name, the device it really runs on, the speed it measured at warm-up, its
   * TensorFlow, CUDA runtime and cuDNN, GPU memory (MiB; -1 on the CPU), XLA compiles at warm-up
   * and on live traffic. Asked again every {@link #DESCRIBE_EVERY}.
   */
  public record WorkerInfo(
      ActorRef<Worker.Command> worker,
      String name,
      double tokensPerSecond,
      String device,
      String tensorflow,
      String cudaRuntime,
      String cudnn,
      long gpuMemoryUsedMib,
      long gpuMemoryLimitMib,
      long warmCompiles,
      long liveCompiles)
      implements Command, WireMessage {}

  private enum DescribeTick implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** How often the frontend asks its workers again (GPU memory, compiles). */
  static final java.time.Duration DESCRIBE_EVERY = java.time.Duration.ofSeconds(10);

  // Messages from actors of this node only: they never cross nodes, so need no serializer.

  record RequestFinished(String requestId, int rows, EncodeOutcome outcome)
      implements Command, NoSerializationVerificationNeeded {}

  private record WorkersChanged(Receptionist.Listing listing)
      implements Command, NoSerializationVerificationNeeded {}

  /** News from the other frontends ({@link LoadShare}): their backlogs (tokens) by address. */
  record OtherFrontends(double backlogTokens, Map<String, Double> byFrontend)
      implements Command, NoSerializationVerificationNeeded {}

  /** Engine failures a row may see before its request fails. */
  static final int MAX_FAILURES = 2;

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  private final ServingSettings settings;
  private final Metrics metrics;
  private final RowQueue queue;
  private final Admission admission;
  private final long maxTextChars;
  private final Map<String, Long> active = new HashMap<>();
  private final ActorRef<LoadShare.Command> loadShare;

  private final WorkerRegistry<ActorRef<Worker.Command>> workers;
  private long pendingRows;

  private Frontend(
      ActorContext<Command> context,
      ServingSettings settings,
      Metrics metrics,
      akka.actor.typed.javadsl.TimerScheduler<Command> timers) {
    super(context);
    timers.startTimerWithFixedDelay(DescribeTick.INSTANCE, DESCRIBE_EVERY);
    this.settings = settings;
    this.metrics = metrics;
    this.workers = new WorkerRegistry<>(settings.prefetchSize());
    // a job, its texts as CBOR, must fit one message between nodes (up to 4 bytes a character)
    this.maxTextChars = settings.frameBytes() / 4;
    this.queue =
        new RowQueue(settings.priorityBatchSize(), settings.engine().maxBatchSize(), maxTextChars);
    Integer maxSeqLen = settings.engine().maxSeqLen();
    this.admission = new Admission(settings.requestTimeout(), maxSeqLen == null ? 512 : maxSeqLen);
    this.loadShare =
        context.spawn(
            LoadShare.create(
                context.getSelf(),
                LoadShare.Settings.create(context.getSystem().settings().config())),
            "load-share");
    context
        .getSystem()
        .receptionist()
        .tell(
            Receptionist.subscribe(
                Worker.SERVICE_KEY,
                context.messageAdapter(Receptionist.Listing.class, WorkersChanged::new)));
  }

  /**
   * The frontend, resumed after any failure of its own: a failure in one message's handling (a bug)
   * must not take every request in flight with it, as a stop or a restart would (the aggregators
   * are its children). The request whose handling failed is answered with a 500.
   */
  public static Behavior<Command> create(ServingSettings settings, Metrics metrics) {
    return Behaviors.supervise(
            Behaviors.<Command>setup(
                context ->
                    Behaviors.withTimers(
                        timers -> new Frontend(context, settings, metrics, timers))))
        .onFailure(Exception.class, SupervisorStrategy.resume());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Encode.class, this::onEncode)
        .onMessage(JobDone.class, this::onJobDone)
        .onMessage(JobFailed.class, this::onJobFailed)
        .onMessage(JobReturned.class, this::onJobReturned)
        .onMessage(WorkerInfo.class, this::onWorkerInfo)
        .onMessage(RequestFinished.class, this::onRequestFinished)
        .onMessage(WorkersChanged.class, this::onWorkersChanged)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessage(OtherFrontends.class, this::onOtherFrontends)
        .onMessageEquals(DescribeTick.INSTANCE, this::onDescribeTick)
        .build();
  }

  private Behavior<Command> onDescribeTick() {
    workers.workers().forEach(w -> w.tell(new Worker.Describe(getContext().getSelf())));
    return this;
  }

  private Behavior<Command> onEncode(Encode encode) {
    try {
      return encode(encode);
    } catch (RuntimeException e) {
      getContext().getLog().error("the frontend failed to take a request; answering 500", e);
      metrics.reply(500);
      if (encode.replyTo() != null) {
        encode
            .replyTo()
            .tell(
                EncodeFailure.of(
                    encode.request().id(),
                    500,
                    "internal_error",
                    "the frontend failed to take this request: " + e));
      }
      return this;
    }
  }

  private Behavior<Command> encode(Encode encode) {
    EncodeRequest request = encode.request();
    List<Object> inputs = request.inputs();
    metrics.requests.increment();
    EncodeFailure refused = refusal(request, inputs);
    long tokens = refused == null ? admission.estimate(inputs, request.isTokenized()) : 0;
    if (refused == null) {
      Admission.Decision decision = admission.decide(tokens);
      if (decision.status() != 0) {
        refused =
            new EncodeFailure(
                request.id(),
                decision.status(),
                decision.status() == 429 ? "overloaded" : "too_large",
                decision.reason(),
                decision.retryAfterSeconds());
      }
    }
    if (refused != null) {
      metrics.reply(refused.status());
      encode.replyTo().tell(refused);
      return this;
    }
    int size = inputs.size();
    String requestId = UUID.randomUUID().toString();
    long deadline = System.nanoTime() + settings.requestTimeout().toNanos();
    boolean showTokens = request.showTokens() || settings.showTokensToClient();
    ActorRef<Aggregator.Command> aggregator =
        getContext()
            .spawn(
                Aggregator.create(
                    requestId,
                    request.id(),
                    size,
                    settings.engine().poolingStrategy().isTokenLevel(),
                    showTokens,
                    settings.requestTimeout(),
                    encode.replyTo(),
                    getContext().getSelf()),
                "request-" + requestId);
    active.put(requestId, System.nanoTime());
    admission.admitted(requestId, tokens, size);
    queue.add(
        Requests.segment(
            requestId,
            aggregator,
            inputs,
            request.isTokenized(),
            deadline,
            Requests.options(request),
            showTokens));
    pendingRows += size;
    metrics.rows.add(size);
    dispatch();
    return this;
  }

  /** Why a request cannot be taken now, or {@code null}. */
  private EncodeFailure refusal(EncodeRequest request, List<Object> inputs) {
    EncodeFailure invalid =
        Requests.invalid(request, inputs, settings.maxRequestRows(), maxTextChars);
    if (invalid != null) {
      return invalid;
    }
    int size = inputs.size();
    if (workers.size() == 0) {
      return new EncodeFailure(
          request.id(), 503, "no_worker", "no worker is registered in the cluster yet", 1);
    }
    if (workers.allRecovering()) {
      return new EncodeFailure(
          request.id(),
          503,
          "no_worker",
          "every worker is opening a new TensorFlow session after an engine failure",
          1);
    }
    if (pendingRows > 0 && pendingRows + size > settings.maxPendingRows()) {
      return new EncodeFailure(
          request.id(),
          429,
          "overloaded",
          pendingRows
              + " rows pending; "
              + "at most "
              + settings.maxPendingRows()
              + " (bert-serving.frontend.max-pending-rows)",
          (int) Math.max(1, Math.ceil(admission.backlogSeconds())));
    }
    return null;
  }

  /** Gives jobs to workers with room, least loaded first, while rows are waiting. */
  private void dispatch() {
    while (true) {
      ActorRef<Worker.Command> worker = workers.pick();
      if (worker == null) {
        break;
      }
      long now = System.nanoTime();
      Job job = queue.cut(s -> active.containsKey(s.requestId()) && !s.expired(now));
      if (job == null) {
        break;
      }
      long jobId = workers.assign(worker, job);
      metrics.jobRows.observe(job.rows());
      worker.tell(new Worker.Run(jobId, job.leaving(now), getContext().getSelf()));
    }
    updateGauges();
  }

  private void updateGauges() {
    metrics.queuedRows.set(queue.rows());
    metrics.pendingRows.set(pendingRows);
    metrics.capacityTokensPerSecond.set(admission.capacity());
    metrics.backlogSeconds.set(admission.backlogSeconds());
    metrics.clusterBacklogSeconds.set(admission.clusterBacklogSeconds());
    metrics.frontends.set(admission.frontends());
    loadShare.tell(new LoadShare.Local(admission.backlogTokens(), admission.budgetTokens()));
  }

  private Behavior<Command> onOtherFrontends(OtherFrontends others) {
    admission.others(others.backlogTokens(), others.byFrontend().size());
    metrics.otherFrontends = others.byFrontend();
    updateGauges();
    return this;
  }

  private Behavior<Command> onJobDone(JobDone done) {
    Job job = workers.ended(done.worker(), done.jobId());
    if (job != null) {
      for (Job.Segment segment : job.segments()) {
        admission.progressed(segment.requestId(), segment.size());
      }
      admission.observed(done.worker(), done.tokens(), done.nanos());
    }
    if (workers.workers().contains(done.worker())) {
      // a worker gone keeps no series: a late reply of its must not bring them back
      metrics.workerRan(done);
    }
    dispatch();
    return this;
  }

  /**
   * A worker recovers from an engine failure: no new job for it (and no share of the admitted work)
   * until its new session describes itself, which it does when asked now.
   */
  private void recovering(ActorRef<Worker.Command> worker) {
    if (workers.recovering(worker)) {
      admission.workerLeft(worker);
      worker.tell(new Worker.Describe(getContext().getSelf()));
    }
  }

  private Behavior<Command> onJobFailed(JobFailed failed) {
    metrics.engineFailures.increment();
    recovering(failed.worker());
    Job job = workers.ended(failed.worker(), failed.jobId());
    if (job != null) {
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
      getContext()
          .getLog()
          .warn(
              "worker {} failed a job of {} row(s): {}; trying {} segment(s) again",
              failed.workerName(),
              job.rows(),
              failed.cause(),
              again.size());
      queue.retryAlone(again);
    }
    dispatch();
    return this;
  }

  private Behavior<Command> onJobReturned(JobReturned returned) {
    // given back untried: the worker is recovering (this frontend may not have seen it fail)
    recovering(returned.worker());
    Job job = workers.ended(returned.worker(), returned.jobId());
    if (job != null) {
      queue.requeueFirst(List.of(job));
    }
    dispatch();
    return this;
  }

  private Behavior<Command> onWorkerInfo(WorkerInfo info) {
    boolean back = workers.back(info.worker());
    if (workers.workers().contains(info.worker())) {
      if (workers.described(info.worker(), info, back)) {
        admission.workerJoined(info.worker(), info.tokensPerSecond());
      }
      metrics.workerDescribed(info);
      updateGauges();
    }
    if (back) {
      getContext().getLog().info("worker {} is back with a new session", info.name());
      dispatch();
    }
    return this;
  }

  /**
   * A worker stopped, or its node left, crashed or became unreachable: its unfinished jobs go first
   * to the others.
   */
  private void workerGone(WorkerRegistry.Gone<ActorRef<Worker.Command>> gone) {
    metrics.workerLeft(gone.info() != null ? gone.info().name() : workerName(gone.worker()));
    admission.workerLeft(gone.worker());
    if (!gone.jobs().isEmpty()) {
      getContext()
          .getLog()
          .warn(
              "worker {} is gone with {} unfinished job(s): sending them again",
              gone.worker().path(),
              gone.jobs().size());
      queue.requeueFirst(gone.jobs());
    }
  }

  private Behavior<Command> onRequestFinished(RequestFinished finished) {
    Long started = active.remove(finished.requestId());
    admission.finished(finished.requestId());
    pendingRows -= finished.rows();
    int status =
        finished.outcome() instanceof EncodeReply
            ? 200
            : ((EncodeFailure) finished.outcome()).status();
    metrics.reply(status);
    if (started != null) {
      metrics.latency.observe((System.nanoTime() - started) / 1e9);
    }
    updateGauges();
    return this;
  }

  /**
   * The reachable workers changed: new ones are described, missing ones are gone. The listing is
   * the one source of truth: the Receptionist drops a worker that stops, whose node becomes
   * unreachable or is removed, and lists it again when it is reachable again. (A death watch would
   * add nothing, and a watch of a restarted node's new worker can end at once, from its
   * predecessor's removal, losing a healthy worker for good.)
   */
  private Behavior<Command> onWorkersChanged(WorkersChanged changed) {
    List<WorkerRegistry.Gone<ActorRef<Worker.Command>>> left = new ArrayList<>();
    for (ActorRef<Worker.Command> joined :
        workers.listed(changed.listing().getServiceInstances(Worker.SERVICE_KEY), left)) {
      joined.tell(new Worker.Describe(getContext().getSelf()));
    }
    left.forEach(this::workerGone);
    metrics.workers.set(workers.size());
    getContext().getLog().info("{} worker(s) reachable: {}", workers.size(), workersPerNode());
    dispatch();
    return this;
  }

  /** A worker's name as it gives it ({@link Worker}: its node's address and its actor's name). */
  private String workerName(ActorRef<Worker.Command> worker) {
    akka.actor.Address node = worker.path().address();
    return (node.hasGlobalScope() ? node : getContext().getSystem().address())
        + "/"
        + worker.path().name();
  }

  private Map<String, Integer> workersPerNode() {
    return workers.perNode(w -> w.path().address().toString());
  }

  private Behavior<Command> onGetStatus(GetStatus get) {
    get.replyTo()
        .tell(
            new StatusReply(
                JSON.valueToTree(
                    StatusReport.of(
                        settings,
                        metrics,
                        workersPerNode(),
                        workers.status(w -> w.path().toString()),
                        pendingRows,
                        queue.rows(),
                        getContext().getSystem()))));
    return this;
  }
}

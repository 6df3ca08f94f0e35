package org.bertserving.cluster;

import akka.actor.NoSerializationVerificationNeeded;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.client.protocol.StatusReply;
import org.bertserving.client.protocol.WireMessage;
import org.bertserving.engine.Featurizer;
import org.bertserving.engine.InvalidInputException;

/**
 * Takes requests, validates them, gives each an {@link Aggregator}, and queues their rows. Work
 * distribution is demand-driven and cluster-aware: workers on any node register with the
 * Receptionist; a worker holds at most {@code prefetch_size} jobs; a job is cut only when a worker
 * has room, from the rows of all waiting requests, small requests first, so rows of many small
 * requests share one job and one TensorFlow run. The jobs of a worker that dies or leaves are
 * queued again (the aggregators drop rows that arrive twice). Bounds the rows in flight (429).
 */
public final class Frontend extends AbstractBehavior<Frontend.Command> {
  public interface Command {}

  /** Encode texts; the answer goes to {@code replyTo} exactly once. */
  public record Encode(EncodeRequest request, ActorRef<EncodeOutcome> replyTo)
      implements Command, WireMessage {}

  /** Configuration and statistics. */
  public record GetStatus(ActorRef<StatusReply> replyTo) implements Command, WireMessage {}

  // Messages from actors of this node only: they never cross nodes, so need no serializer.

  record RequestFinished(String requestId, int rows, EncodeOutcome outcome)
      implements Command, NoSerializationVerificationNeeded {}

  /** A worker finished a job: it has room again. */
  public record JobDone(long jobId, ActorRef<Worker.Command> worker, String workerName, int rows,
      long runs, long nanos) implements Command, WireMessage {}

  private record WorkerGone(ActorRef<Worker.Command> worker)
      implements Command, NoSerializationVerificationNeeded {}

  private record WorkersChanged(Receptionist.Listing listing)
      implements Command, NoSerializationVerificationNeeded {}

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  private final ServingSettings settings;
  private final Metrics metrics;
  private final RowQueue queue;
  private final Map<String, Long> active = new HashMap<>();
  private final Map<String, Integer> workersPerNode = new HashMap<>();
  /** Per registered worker, its jobs not yet done, in the order of registration. */
  private final Map<ActorRef<Worker.Command>, Map<Long, Job>> inFlight = new LinkedHashMap<>();
  private long nextJobId;
  private long pendingRows;

  private Frontend(ActorContext<Command> context, ServingSettings settings, Metrics metrics) {
    super(context);
    this.settings = settings;
    this.metrics = metrics;
    this.queue = new RowQueue(settings.priorityBatchSize(), settings.engine().maxBatchSize());
    context.getSystem().receptionist().tell(Receptionist.subscribe(Worker.SERVICE_KEY,
        context.messageAdapter(Receptionist.Listing.class, WorkersChanged::new)));
  }

  public static Behavior<Command> create(ServingSettings settings, Metrics metrics) {
    return Behaviors.setup(context -> new Frontend(context, settings, metrics));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Encode.class, this::onEncode)
        .onMessage(JobDone.class, this::onJobDone)
        .onMessage(WorkerGone.class, this::onWorkerGone)
        .onMessage(RequestFinished.class, this::onRequestFinished)
        .onMessage(WorkersChanged.class, this::onWorkersChanged)
        .onMessage(GetStatus.class, this::onGetStatus)
        .build();
  }

  private Behavior<Command> onEncode(Encode encode) {
    EncodeRequest request = encode.request();
    List<Object> inputs = request.inputs();
    EncodeFailure refused = refusal(request, inputs);
    metrics.requests.increment();
    if (refused != null) {
      metrics.reply(refused.status());
      encode.replyTo().tell(refused);
      return this;
    }
    int size = inputs.size();
    String requestId = UUID.randomUUID().toString();
    long deadline = System.currentTimeMillis() + settings.requestTimeout().toMillis();
    boolean showTokens = request.showTokens() || settings.showTokensToClient();
    ActorRef<Aggregator.Command> aggregator = getContext().spawn(Aggregator.create(requestId,
        request.id(), size, settings.engine().poolingStrategy().isTokenLevel(), showTokens,
        settings.requestTimeout(), encode.replyTo(), getContext().getSelf()), "request-" + requestId);
    active.put(requestId, System.nanoTime());
    queue.add(segment(requestId, aggregator, inputs, request.isTokenized(), deadline));
    pendingRows += size;
    metrics.pendingRows.set(pendingRows);
    metrics.rows.add(size);
    dispatch();
    return this;
  }

  /** The whole request as one typed segment; the inputs are validated already. */
  @SuppressWarnings("unchecked")
  private static Job.Segment segment(String requestId, ActorRef<Aggregator.Command> aggregator,
      List<Object> inputs, boolean isTokenized, long deadline) {
    List<?> typed = inputs;
    return isTokenized
        ? new Job.Segment(requestId, aggregator, 0, null, (List<List<String>>) typed, deadline)
        : new Job.Segment(requestId, aggregator, 0, (List<String>) typed, null, deadline);
  }

  /** Why a request cannot be taken, or {@code null}. */
  private EncodeFailure refusal(EncodeRequest request, List<Object> inputs) {
    try {
      Featurizer.validate(inputs, request.isTokenized());
    } catch (InvalidInputException e) {
      return EncodeFailure.of(request.id(), 400, "invalid_input", e.getMessage());
    }
    int size = inputs.size();
    if (size > settings.maxRequestRows()) {
      return EncodeFailure.of(request.id(), 413, "too_large", size + " texts in one request; at "
          + "most " + settings.maxRequestRows() + " (bert-serving.frontend.max-request-rows)");
    }
    if (inFlight.isEmpty()) {
      return new EncodeFailure(request.id(), 503, "no_worker",
          "no worker is registered in the cluster yet", 1);
    }
    if (pendingRows > 0 && pendingRows + size > settings.maxPendingRows()) {
      int seconds = (int) Math.max(1, Math.min(30, pendingRows / 1000));
      return new EncodeFailure(request.id(), 429, "overloaded", pendingRows + " rows pending; "
          + "at most " + settings.maxPendingRows() + " (bert-serving.frontend.max-pending-rows)",
          seconds);
    }
    return null;
  }

  /** Gives jobs to workers with room, least loaded first, while rows are waiting. */
  private void dispatch() {
    while (true) {
      ActorRef<Worker.Command> worker = null;
      int least = settings.prefetchSize();
      for (Map.Entry<ActorRef<Worker.Command>, Map<Long, Job>> e : inFlight.entrySet()) {
        if (e.getValue().size() < least) {
          least = e.getValue().size();
          worker = e.getKey();
        }
      }
      if (worker == null) {
        break;
      }
      long now = System.currentTimeMillis();
      Job job = queue.cut(s -> active.containsKey(s.requestId()) && s.deadlineMillis() >= now);
      if (job == null) {
        break;
      }
      long jobId = nextJobId++;
      inFlight.get(worker).put(jobId, job);
      metrics.jobRows.observe(job.rows());
      worker.tell(new Worker.Run(jobId, job, getContext().getSelf()));
    }
    metrics.queuedRows.set(queue.rows());
  }

  private Behavior<Command> onJobDone(JobDone done) {
    Map<Long, Job> jobs = inFlight.get(done.worker());
    if (jobs != null) {
      jobs.remove(done.jobId());
    }
    metrics.workerRan(done);
    dispatch();
    return this;
  }

  /** A worker's node left or crashed: its unfinished jobs go first to the others. */
  private Behavior<Command> onWorkerGone(WorkerGone gone) {
    Map<Long, Job> jobs = inFlight.remove(gone.worker());
    if (jobs != null && !jobs.isEmpty()) {
      getContext().getLog().warn("worker {} is gone with {} unfinished job(s): sending them again",
          gone.worker().path(), jobs.size());
      queue.requeueFirst(new ArrayList<>(jobs.values()));
    }
    metrics.workers.set(inFlight.size());
    dispatch();
    return this;
  }

  private Behavior<Command> onRequestFinished(RequestFinished finished) {
    Long started = active.remove(finished.requestId());
    pendingRows -= finished.rows();
    metrics.pendingRows.set(pendingRows);
    int status = finished.outcome() instanceof EncodeReply ? 200
        : ((EncodeFailure) finished.outcome()).status();
    metrics.reply(status);
    if (started != null) {
      metrics.latency.observe((System.nanoTime() - started) / 1e9);
    }
    return this;
  }

  private Behavior<Command> onWorkersChanged(WorkersChanged changed) {
    Set<ActorRef<Worker.Command>> listed = changed.listing().getServiceInstances(Worker.SERVICE_KEY);
    for (ActorRef<Worker.Command> worker : listed) {
      if (!inFlight.containsKey(worker)) {
        inFlight.put(worker, new LinkedHashMap<>());
        getContext().watchWith(worker, new WorkerGone(worker));
      }
    }
    for (ActorRef<Worker.Command> known : List.copyOf(inFlight.keySet())) {
      if (!listed.contains(known)) {
        getContext().unwatch(known);
        onWorkerGone(new WorkerGone(known));
      }
    }
    workersPerNode.clear();
    for (ActorRef<Worker.Command> worker : inFlight.keySet()) {
      workersPerNode.merge(worker.path().address().toString(), 1, Integer::sum);
    }
    metrics.workers.set(inFlight.size());
    getContext().getLog().info("{} worker(s) registered: {}", inFlight.size(), workersPerNode);
    dispatch();
    return this;
  }

  private Behavior<Command> onGetStatus(GetStatus get) {
    get.replyTo().tell(new StatusReply(JSON.valueToTree(ServerStatus.of(settings, metrics,
        workersPerNode, pendingRows, queue.rows(), getContext().getSystem()))));
    return this;
  }
}

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
import java.util.Map;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.StatusReply;

/**
 * Takes requests and hands their rows to the workers, one message at a time. A request goes through
 * the {@link Intake} (validated, admitted by the work it brings against the speed measured of the
 * workers, given its {@link Aggregator}); its rows wait in {@link Dispatch}, which cuts a job only
 * when a worker has room (at most {@code prefetch_size} each), from the rows of all waiting
 * requests, small requests first, and sends again the jobs of a worker that fails, gives them back,
 * stops, leaves or becomes unreachable. Workers on any node register with the Receptionist. The
 * messages it takes from other nodes are in {@link FrontendProtocol}.
 */
public final class Frontend extends AbstractBehavior<FrontendProtocol.Command>
    implements FrontendProtocol {
  private enum DescribeTick implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /**
   * How often the frontend asks its workers again (GPU memory, compiles, and the jobs they hold:
   * {@link Dispatch#held}).
   */
  static final java.time.Duration DESCRIBE_EVERY = java.time.Duration.ofSeconds(10);

  // Messages from actors of this node only: they never cross nodes, so need no serializer.

  record RequestFinished(String requestId, int rows, EncodeOutcome outcome)
      implements Command, NoSerializationVerificationNeeded {}

  private record WorkersChanged(Receptionist.Listing listing)
      implements Command, NoSerializationVerificationNeeded {}

  /**
   * News from the other frontends ({@link LoadShare}): their backlogs (tokens), in all, by address
   * and by model (each model is admitted against the others' backlog of that model alone).
   */
  record OtherFrontends(
      double backlogTokens, Map<String, Double> byFrontend, Map<String, Double> byModel)
      implements Command, NoSerializationVerificationNeeded {}

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  private final ServingSettings settings;
  private final Metrics metrics;
  private final ActorRef<LoadShare.Command> loadShare;
  private final Intake intake;
  private final Models models;

  /** The other frontends' latest news, for the admission of a model that joins later. */
  private OtherFrontends others = new OtherFrontends(0, Map.of(), Map.of());

  private Frontend(
      ActorContext<Command> context,
      ServingSettings settings,
      Metrics metrics,
      akka.actor.typed.javadsl.TimerScheduler<Command> timers) {
    super(context);
    context.setLoggerName(Frontend.class); // Intake and Dispatch log as the frontend
    timers.startTimerWithFixedDelay(DescribeTick.INSTANCE, DESCRIBE_EVERY);
    this.settings = settings;
    this.metrics = metrics;
    // a job, its texts as CBOR, must fit one message between nodes (up to 4 bytes a character)
    long maxTextChars = settings.frameBytes() / 4;
    this.intake = new Intake(settings, metrics, maxTextChars, context);
    this.models =
        new Models(
            context
                .getSystem()
                .settings()
                .config()
                .getString("bert-serving.frontend.default-model"),
            description -> model(description, maxTextChars),
            context,
            served -> metrics.served = served);
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

  /** A model's dispatch and admission, made when its first worker describes itself. */
  private Dispatch model(WorkerDescription first, long maxTextChars) {
    // admitted by its own workers' max_seq_len (0: NONE, up to the model's 512 positions)
    Admission admission =
        new Admission(settings.requestTimeout(), first.maxSeqLen() > 0 ? first.maxSeqLen() : 512);
    admission.others(others.byModel().getOrDefault(first.model(), 0.0), others.byFrontend().size());
    return new Dispatch(
        first.model(),
        ServedModel.of(first).tokenLevel(),
        settings,
        maxTextChars,
        admission,
        metrics,
        getContext(),
        intake::waiting);
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
        .onMessage(JobDone.class, done -> dispatchAfter(done.worker(), d -> d.done(done)))
        .onMessage(JobFailed.class, failed -> dispatchAfter(failed.worker(), d -> d.failed(failed)))
        .onMessage(JobReturned.class, back -> dispatchAfter(back.worker(), d -> d.returned(back)))
        .onMessage(JobsHeld.class, held -> dispatchAfter(held.worker(), d -> d.held(held)))
        .onMessage(WorkerDescription.class, this::onWorkerDescription)
        .onMessage(RequestFinished.class, this::onRequestFinished)
        .onMessage(WorkersChanged.class, this::onWorkersChanged)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessage(OtherFrontends.class, this::onOtherFrontends)
        .onMessageEquals(DescribeTick.INSTANCE, this::onDescribeTick)
        .build();
  }

  private Behavior<Command> onDescribeTick() {
    models.describeAll();
    return this;
  }

  private Behavior<Command> onEncode(Encode encode) {
    try {
      Models.Route routed = models.route(encode.request());
      if (routed.refused() != null) {
        intake.refuse(encode, routed.refused());
        return this;
      }
      Dispatch model = routed.model();
      Job.Segment rows = intake.take(encode, model);
      if (rows != null) {
        model.add(rows);
        dispatch(model);
      }
    } catch (RuntimeException e) {
      intake.failed(encode, e);
    }
    return this;
  }

  /**
   * What a worker said changes who of its model may take jobs: jobs are cut for those with room. A
   * worker gone or never described belongs to no model: its news changes nothing.
   */
  private Behavior<Command> dispatchAfter(
      ActorRef<Worker.Command> worker, java.util.function.Consumer<Dispatch> news) {
    Dispatch model = models.of(worker);
    if (model != null) {
      news.accept(model);
      dispatch(model);
    }
    return this;
  }

  private void dispatch(Dispatch model) {
    model.dispatch();
    updateGauges();
  }

  private void updateGauges() {
    Map<String, Double> byModel = models.gauges(metrics);
    metrics.pendingRows.set(intake.pendingRows());
    metrics.frontends.set(1 + others.byFrontend().size());
    loadShare.tell(new LoadShare.Local(models.backlogTokens(), models.budgetTokens(), byModel));
  }

  private Behavior<Command> onOtherFrontends(OtherFrontends others) {
    this.others = others;
    for (Dispatch model : models.all()) {
      model
          .admission()
          .others(others.byModel().getOrDefault(model.model(), 0.0), others.byFrontend().size());
    }
    metrics.otherFrontends = others.byFrontend();
    updateGauges();
    return this;
  }

  private Behavior<Command> onWorkerDescription(WorkerDescription description) {
    Dispatch known = models.of(description.worker());
    if (known == null) {
      Dispatch joined = models.described(description); // its first description: it joins its model
      if (joined != null) {
        dispatch(joined);
      }
      return this;
    }
    boolean back = known.back(description.worker());
    if (known.described(description, back)) {
      updateGauges();
    }
    if (back) {
      getContext().getLog().info("worker {} is back with a new session", description.name());
      dispatch(known);
    }
    return this;
  }

  private Behavior<Command> onRequestFinished(RequestFinished finished) {
    intake.finished(finished);
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
    models.listed(changed.listing().getServiceInstances(Worker.SERVICE_KEY));
    models.all().forEach(Dispatch::dispatch);
    updateGauges();
    getContext().getLog().info("{} worker(s) reachable: {}", models.workers(), models.perNode());
    return this;
  }

  private Behavior<Command> onGetStatus(GetStatus get) {
    get.replyTo()
        .tell(
            new StatusReply(
                JSON.valueToTree(
                    StatusReport.of(
                        settings,
                        metrics,
                        models.perNode(),
                        models.status(),
                        models.report(),
                        models.defaultName(),
                        intake.pendingRows(),
                        models.queuedRows(),
                        getContext().getSystem()))));
    return this;
  }
}

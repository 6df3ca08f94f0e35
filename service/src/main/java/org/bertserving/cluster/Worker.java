package org.bertserving.cluster;

import akka.actor.NoSerializationVerificationNeeded;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.PostStop;
import akka.actor.typed.PreRestart;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import java.util.LinkedHashSet;
import java.util.Set;
import org.bertserving.client.protocol.WireMessage;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineException;

/**
 * One engine on one device, registered with the Receptionist once warmed up. Runs the rows of all
 * segments of a job together (one length-sorted batch plan), answers each segment's aggregator (in
 * chunks that fit a remote message; a small job's from the engine's thread as soon as its run ends,
 * a large one's from the actor once the next run has started), then tells the frontend the job is
 * done so that it may send another. The frontend never gives a worker more than {@code
 * prefetch_size} jobs. Pipelined: the TensorFlow run goes on the engine's own thread ({@link
 * WorkerEngine}) while the actor tokenizes the next job; the actor's thread never blocks (warm-ups,
 * computed jobs and descriptions come back as messages).
 *
 * <p>A failed TensorFlow run fails that job (the frontend sends it elsewhere once) and a warm-up
 * that fails (at start, or of a new session) is tried again: the worker opens a new session and
 * warms it up, waiting longer before each try while tries fail ({@link WorkerHealth#MIN_BACKOFF}
 * doubling up to {@link WorkerHealth#MAX_BACKOFF}), and never gives up. Meanwhile its node is not
 * ready and says why, any job it is sent goes straight back to its frontend untried, and the
 * frontends' {@link Describe} wait for the new session. Anything else that fails (a bug, not the
 * device) restarts the actor under its supervisor, with the same back-off: every job it held goes
 * back to its frontend first, and the new instance opens a new session once the old one's run has
 * ended.
 */
public final class Worker extends AbstractBehavior<Worker.Command> {
  public static final ServiceKey<Command> SERVICE_KEY =
      ServiceKey.create(Command.class, "bert-workers");

  public interface Command {}

  /** A job to compute, and the frontend to report it to. */
  public record Assignment(long jobId, Job job, ActorRef<Frontend.Command> frontend)
      implements Command, WireMessage {}

  /**
   * A frontend asks for this worker's {@link Frontend.WorkerDescription} (when it has just seen it,
   * and every {@link Frontend#DESCRIBE_EVERY}), and, answered at once, for the ids of its jobs the
   * worker holds ({@link Frontend.JobsHeld}); {@code upTo}: the frontend's next job id as it asked.
   */
  public record Describe(ActorRef<Frontend.Command> frontend, long upTo)
      implements Command, WireMessage {}

  /** A job's computation ended, on the engine's thread, for the instance {@code by}. */
  private record JobComputed(
      Object by, PreparedJob job, WorkerEngine.Computed computed, Throwable failure)
      implements Command, NoSerializationVerificationNeeded {}

  /** Time to open a new session (after a failure). */
  private enum Reopen implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** A session was warmed up, or failed to (the failure), for the instance {@code by}. */
  private record Warmed(Object by, Throwable failure)
      implements Command, NoSerializationVerificationNeeded {}

  /** What this worker is, for a frontend that asked. */
  private record Described(
      ActorRef<Frontend.Command> frontend,
      Frontend.WorkerDescription description,
      Throwable failure)
      implements Command, NoSerializationVerificationNeeded {}

  private final WorkerEngine engine;
  private final String name;
  private final TimerScheduler<Command> timers;

  /**
   * This instance, as its computations know it: a computation of the instance before a restart is
   * not its own.
   */
  private final Object self = new Object();

  private final WorkerHealth health;
  private final WorkerJobs jobs;

  /** Frontends that asked who this worker is while it warmed up: answered once it is warm. */
  private final Set<ActorRef<Frontend.Command>> askedWhileWarming = new LinkedHashSet<>();

  private Worker(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      WorkerEngine engine,
      NodeWorkers node,
      ResultChunker chunker) {
    super(context);
    this.timers = timers;
    this.engine = engine;
    this.name = context.getSystem().address() + "/" + context.getSelf().path().name();
    this.health = new WorkerHealth(node, name, context.getLog());
    this.jobs = new WorkerJobs(context.getSelf(), name, engine.encoder, chunker);
    // warm up (under -xla: compile every shape) and measure first, so that a registered worker
    // answers at full speed (and /ready means ready), and the frontend knows its speed at once
    health.warmingUp(engine.warmedUp());
    context.pipeToSelf(engine.warmUp(), (warm, failure) -> new Warmed(self, failure));
  }

  /**
   * @param node this node's record of its workers (readiness)
   * @param chunker cuts results for aggregators on other nodes
   */
  public static Behavior<Command> create(
      BertEncoder encoder, NodeWorkers node, ResultChunker chunker) {
    return Behaviors.setup(
        outer -> {
          WorkerEngine engine =
              new WorkerEngine(
                  encoder,
                  outer.getSelf().path().name(),
                  outer.getSystem().dispatchers().lookup(DispatcherSelector.blocking()));
          Behavior<Command> worker =
              Behaviors.setup(
                  context ->
                      Behaviors.withTimers(
                          timers -> new Worker(context, timers, engine, node, chunker)));
          // the device's failures are the worker's own to recover from (recover()); what it does
          // not expect restarts it, waiting longer each time, never giving up
          return Behaviors.supervise(worker)
              .onFailure(
                  Exception.class,
                  SupervisorStrategy.restartWithBackoff(
                      WorkerHealth.MIN_BACKOFF, WorkerHealth.MAX_BACKOFF, 0.2));
        });
  }

  /** Until its session is warm: jobs go back untried, descriptions wait. */
  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Assignment.class, this::onAssignmentWhileWarming)
        .onMessage(Describe.class, this::onDescribeWhileWarming)
        .onMessage(Warmed.class, this::onWarmed)
        .onMessage(Described.class, this::onDescribed)
        .onMessage(JobComputed.class, c -> this) // of the instance before a restart: given back
        .onMessageEquals(Reopen.INSTANCE, this::onReopen)
        .onSignal(PreRestart.class, s -> restarting())
        .onSignal(PostStop.class, s -> stopped())
        .build();
  }

  private Receive<Command> serving() {
    return newReceiveBuilder()
        .onMessage(Assignment.class, this::onAssignment)
        .onMessage(
            Describe.class,
            d -> {
              held(d);
              return describe(d.frontend());
            })
        .onMessage(Described.class, this::onDescribed)
        .onMessage(JobComputed.class, this::onJobComputed)
        .onSignal(PreRestart.class, s -> restarting())
        .onSignal(PostStop.class, s -> stopped())
        .build();
  }

  private Behavior<Command> onAssignmentWhileWarming(Assignment assignment) {
    jobs.giveBack(assignment);
    return Behaviors.same();
  }

  private Behavior<Command> onDescribeWhileWarming(Describe describe) {
    held(describe); // none: a warming worker gives its jobs back
    askedWhileWarming.add(describe.frontend());
    return Behaviors.same();
  }

  /** Tells the asking frontend, at once, which of its jobs this worker holds. */
  private void held(Describe describe) {
    describe
        .frontend()
        .tell(
            new Frontend.JobsHeld(
                getContext().getSelf(), describe.upTo(), jobs.heldFor(describe.frontend())));
  }

  private Behavior<Command> onWarmed(Warmed warmed) {
    if (warmed.by() != self) {
      return Behaviors.same(); // the instance's before a restart: this one warms its own session
    }
    if (warmed.failure() != null) {
      return recover("warm-up failed", WorkerEngine.failure(warmed.failure()));
    }
    getContext()
        .getSystem()
        .receptionist()
        .tell(Receptionist.register(SERVICE_KEY, getContext().getSelf()));
    health.ready();
    askedWhileWarming.forEach(this::describe);
    askedWhileWarming.clear();
    return serving();
  }

  private Behavior<Command> onReopen() {
    getContext().pipeToSelf(engine.warmUp(), (warm, failure) -> new Warmed(self, failure));
    return Behaviors.same();
  }

  private Behavior<Command> describe(ActorRef<Frontend.Command> frontend) {
    getContext()
        .pipeToSelf(
            engine.describe(getContext().getSelf(), name),
            (description, failure) -> new Described(frontend, description, failure));
    return Behaviors.same();
  }

  private Behavior<Command> onDescribed(Described described) {
    if (described.failure() != null) {
      throw new IllegalStateException(
          "cannot describe worker " + name + ": " + described.failure(), described.failure());
    }
    described.frontend().tell(described.description());
    return Behaviors.same();
  }

  /** Tokenizes the job now, then runs it when it is its turn. */
  private Behavior<Command> onAssignment(Assignment assignment) {
    jobs.add(assignment);
    startNext();
    return Behaviors.same();
  }

  /** Starts the next prepared job's TensorFlow run on the engine's thread, if none runs. */
  private void startNext() {
    PreparedJob job = jobs.start();
    if (job == null) {
      return;
    }
    // a small job's rows go from the engine's thread; a large one's are sent from here, once the
    // next run has started, so that the device does not wait while they are normalized and sent
    java.util.function.Consumer<float[][]> deliver =
        jobs.sentByEngine(job) ? vectors -> jobs.deliver(job, vectors) : null;
    getContext()
        .pipeToSelf(
            engine.compute(job.rows, deliver),
            (computed, failure) -> new JobComputed(self, job, computed, failure));
  }

  private Behavior<Command> onJobComputed(JobComputed computed) {
    if (computed.by() != self) {
      return Behaviors.same();
    }
    jobs.computed();
    if (computed.failure() != null) {
      EngineException e = WorkerEngine.failure(computed.failure());
      jobs.failed(computed.job(), e);
      return recover("a TensorFlow run failed", e);
    }
    if (computed.computed().undelivered() != null) {
      // not the device: a bug, or chaos's fail-next-deliveries; the supervisor restarts the worker
      // and every job it holds, this one included, goes back to its frontend
      jobs.undelivered(computed.job());
      throw computed.computed().undelivered();
    }
    health.worked();
    startNext();
    float[][] vectors = computed.computed().vectors();
    if (vectors != null) {
      jobs.undelivered(computed.job()); // held until sent: a restart meanwhile gives it back
      jobs.deliver(computed.job(), vectors);
    }
    jobs.delivered(computed.job(), computed.computed());
    return Behaviors.same();
  }

  /** A session failed: not ready, and a new one after the wait this failure in a row earns. */
  private Behavior<Command> recover(String what, EngineException cause) {
    timers.startSingleTimer(Reopen.INSTANCE, health.failed(what, cause));
    return createReceive();
  }

  /** The supervisor restarts this actor: every job it holds goes back to its frontend first. */
  private Behavior<Command> restarting() {
    jobs.giveBackAll();
    health.restarting();
    return Behaviors.same();
  }

  private Behavior<Command> stopped() {
    health.stopped();
    engine.stop();
    return Behaviors.same();
  }
}

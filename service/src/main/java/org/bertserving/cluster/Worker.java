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
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.bertserving.client.protocol.WireMessage;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineException;

/**
 * One engine on one device, registered with the Receptionist once warmed up. Runs the rows of all
 * segments of a job together (one length-sorted batch plan), answers each segment's aggregator (in
 * chunks that fit a remote message), then tells the frontend the job is done so that it may send
 * another. The frontend never gives a worker more than {@code prefetch_size} jobs. Pipelined: the
 * TensorFlow run goes on the engine's own thread ({@link WorkerEngine}) while the actor tokenizes
 * the next job; the actor's thread never blocks (warm-ups, runs and descriptions come back as
 * messages).
 *
 * <p>A failed TensorFlow run fails that job (the frontend sends it elsewhere once) and a warm-up
 * that fails (at start, or of a new session) is tried again: the worker opens a new session and
 * warms it up, waiting longer before each try while tries fail ({@link #MIN_BACKOFF} doubling up to
 * {@link #MAX_BACKOFF}), and never gives up. Meanwhile its node is not ready and says why, any job
 * it is sent goes straight back to its frontend untried, and the frontends' {@link Describe} wait
 * for the new session. Anything else that fails (a bug, not the device) restarts the actor under
 * its supervisor, with the same back-off: every job it held goes back to its frontend first, and
 * the new instance opens a new session once the old one's run has ended.
 */
public final class Worker extends AbstractBehavior<Worker.Command> {
  public static final ServiceKey<Command> SERVICE_KEY =
      ServiceKey.create(Command.class, "bert-workers");

  /**
   * The wait before a new session after a failure; it doubles with every failure in a row (runs and
   * warm-ups alike) and starts again from here after a run that works.
   */
  static final Duration MIN_BACKOFF = Duration.ofMillis(200);

  static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  public interface Command {}

  /** Run one job and report to {@code frontend}. */
  public record Run(long jobId, Job job, ActorRef<Frontend.Command> frontend)
      implements Command, WireMessage {}

  /** A frontend that has just seen this worker asks for its {@link Frontend.WorkerInfo}. */
  public record Describe(ActorRef<Frontend.Command> frontend) implements Command, WireMessage {}

  /** A TensorFlow run ended, on the engine's thread, for the instance {@code by}. */
  private record Ran(
      Object by, PreparedJob job, float[][] vectors, Throwable failure, long nanos, long runs)
      implements Command, NoSerializationVerificationNeeded {}

  /** Time to open a new session (after a failure). */
  private enum Reopen implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** A session was warmed up, or failed to: its speed, or the failure. */
  private record Warmed(Double tokensPerSecond, Throwable failure)
      implements Command, NoSerializationVerificationNeeded {}

  /** What this worker is, for a frontend that asked. */
  private record Described(
      ActorRef<Frontend.Command> frontend, Frontend.WorkerInfo info, Throwable failure)
      implements Command, NoSerializationVerificationNeeded {}

  private final WorkerEngine engine;
  private final NodeWorkers node;
  private final ResultChunker chunker;
  private final String name;
  private final TimerScheduler<Command> timers;

  /** This instance, as its runs know it: a run of the instance before a restart is not its own. */
  private final Object self = new Object();

  private double tokensPerSecond;

  /** Failures in a row (runs, then warm-ups of new sessions), for the wait before the next try. */
  private int failures;

  /** Frontends that asked who this worker is while it warmed up: answered once it is warm. */
  private final Set<ActorRef<Frontend.Command>> askedWhileWarming = new LinkedHashSet<>();

  /** Jobs tokenized and waiting for the run in progress to end (at most prefetch_size - 1). */
  private final ArrayDeque<PreparedJob> waiting = new ArrayDeque<>();

  /** The job whose TensorFlow run is in progress, or {@code null}. */
  private PreparedJob running;

  /** The job whose rows are being sent, or {@code null}. */
  private PreparedJob delivering;

  private Worker(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      WorkerEngine engine,
      NodeWorkers node,
      ResultChunker chunker,
      boolean restarted) {
    super(context);
    this.timers = timers;
    this.engine = engine;
    this.node = node;
    this.chunker = chunker;
    this.name = context.getSystem().address() + "/" + context.getSelf().path().name();
    // warm up (under -xla: compile every shape) and measure first, so that a registered worker
    // answers at full speed (and /ready means ready), and the frontend knows its speed at once
    node.down(name, restarted ? "restarted after a failure: warming up" : "warming up");
    context.pipeToSelf(engine.warmUp(restarted), Warmed::new);
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
          boolean[] started = {false};
          Behavior<Command> worker =
              Behaviors.setup(
                  context ->
                      Behaviors.withTimers(
                          timers -> {
                            boolean restarted = started[0];
                            started[0] = true;
                            return new Worker(context, timers, engine, node, chunker, restarted);
                          }));
          // the device's failures are the worker's own to recover from (recover()); what it does
          // not expect restarts it, waiting longer each time, never giving up
          return Behaviors.supervise(worker)
              .onFailure(
                  Exception.class,
                  SupervisorStrategy.restartWithBackoff(MIN_BACKOFF, MAX_BACKOFF, 0.2));
        });
  }

  /** Until its session is warm: jobs go back untried, descriptions wait. */
  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Run.class, this::onRunWhileWarming)
        .onMessage(Describe.class, this::onDescribeWhileWarming)
        .onMessage(Warmed.class, this::onWarmed)
        .onMessage(Described.class, this::onDescribed)
        .onMessage(Ran.class, ran -> this) // a run of the instance before a restart: given back
        .onMessageEquals(Reopen.INSTANCE, this::onReopen)
        .onSignal(PreRestart.class, s -> restarting())
        .onSignal(PostStop.class, s -> stopped())
        .build();
  }

  private Receive<Command> serving() {
    return newReceiveBuilder()
        .onMessage(Run.class, this::onRun)
        .onMessage(Describe.class, d -> describe(d.frontend()))
        .onMessage(Described.class, this::onDescribed)
        .onMessage(Ran.class, this::onRan)
        .onSignal(PreRestart.class, s -> restarting())
        .onSignal(PostStop.class, s -> stopped())
        .build();
  }

  private Behavior<Command> onRunWhileWarming(Run run) {
    giveBack(run);
    return Behaviors.same();
  }

  private Behavior<Command> onDescribeWhileWarming(Describe describe) {
    askedWhileWarming.add(describe.frontend());
    return Behaviors.same();
  }

  private Behavior<Command> onWarmed(Warmed warmed) {
    if (warmed.failure() != null) {
      return recover("warm-up failed", engineFailure(warmed.failure()));
    }
    tokensPerSecond = warmed.tokensPerSecond();
    getContext()
        .getSystem()
        .receptionist()
        .tell(Receptionist.register(SERVICE_KEY, getContext().getSelf()));
    node.ready(name);
    if (failures > 0) {
      getContext().getLog().info("worker {}: back with a new session", name);
    }
    askedWhileWarming.forEach(this::describe);
    askedWhileWarming.clear();
    return serving();
  }

  private Behavior<Command> onReopen() {
    getContext().pipeToSelf(engine.warmUp(true), Warmed::new);
    return Behaviors.same();
  }

  private Behavior<Command> describe(ActorRef<Frontend.Command> frontend) {
    getContext()
        .pipeToSelf(
            engine.describe(getContext().getSelf(), name, tokensPerSecond),
            (info, failure) -> new Described(frontend, info, failure));
    return Behaviors.same();
  }

  private Behavior<Command> onDescribed(Described described) {
    if (described.failure() != null) {
      throw new IllegalStateException(
          "cannot describe worker " + name + ": " + described.failure(), described.failure());
    }
    described.frontend().tell(described.info());
    return Behaviors.same();
  }

  /**
   * Tokenizes the job now (the run before it may still compute), then runs it when it is its turn.
   */
  private Behavior<Command> onRun(Run run) {
    PreparedJob job = PreparedJob.prepare(run, engine.encoder, name);
    if (job.rows.isEmpty()) {
      done(job, 0, 0);
    } else {
      waiting.add(job);
      startNext();
    }
    return Behaviors.same();
  }

  /** Starts the next prepared job's TensorFlow run on the engine's thread, if none runs. */
  private void startNext() {
    while (running == null && !waiting.isEmpty()) {
      PreparedJob job = waiting.poll();
      if (job.expired(name)) {
        done(job, 0, 0); // its requests timed out while it waited: not computed for nobody
        continue;
      }
      running = job;
      long start = System.nanoTime();
      long runsBefore = engine.encoder.runs();
      getContext()
          .pipeToSelf(
              engine.run(job.rows),
              (vectors, failure) ->
                  new Ran(
                      self,
                      job,
                      vectors,
                      failure,
                      System.nanoTime() - start,
                      engine.encoder.runs() - runsBefore));
    }
  }

  private Behavior<Command> onRan(Ran ran) {
    if (ran.by() != self) {
      return Behaviors.same();
    }
    running = null;
    if (ran.failure() != null) {
      EngineException e = engineFailure(ran.failure());
      Run run = ran.job().run;
      run.frontend()
          .tell(new Frontend.JobFailed(run.jobId(), getContext().getSelf(), name, e.getMessage()));
      // the jobs prepared behind it were not tried: back to the frontend, not failed
      waiting.forEach(job -> giveBack(job.run));
      waiting.clear();
      return recover("a TensorFlow run failed", e);
    }
    failures = 0;
    // the next job's run first: its device computes while this one's rows are sent
    startNext();
    delivering = ran.job();
    engine.encoder.faults().beforeDelivery();
    delivering.deliver(ran.vectors(), engine.encoder, chunker);
    done(delivering, ran.nanos(), ran.runs());
    delivering = null;
    return Behaviors.same();
  }

  /** A session failed: not ready, and a new one after the wait this failure in a row earns. */
  private Behavior<Command> recover(String what, EngineException cause) {
    failures++;
    long wait =
        Math.min(MAX_BACKOFF.toMillis(), MIN_BACKOFF.toMillis() << Math.min(20, failures - 1));
    node.down(
        name,
        what
            + ": "
            + cause.getMessage()
            + "; a new session in "
            + wait
            + " ms (try "
            + failures
            + ")");
    getContext()
        .getLog()
        .error(
            "worker {}: {}: {}; a new TensorFlow session in {} ms (failure {} in a row)",
            name,
            what,
            cause.getMessage(),
            wait,
            failures);
    timers.startSingleTimer(Reopen.INSTANCE, Duration.ofMillis(wait));
    return createReceive();
  }

  /** The failure of a run or of a warm-up, as one EngineException. */
  private static EngineException engineFailure(Throwable failure) {
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    return cause instanceof EngineException engine
        ? engine
        : new EngineException(String.valueOf(cause.getMessage()), cause);
  }

  /** The supervisor restarts this actor: every job it holds goes back to its frontend first. */
  private Behavior<Command> restarting() {
    // aggregators keep the first copy of a row: rows of a job half delivered may come twice
    for (PreparedJob held : new PreparedJob[] {delivering, running}) {
      if (held != null) {
        giveBack(held.run);
      }
    }
    waiting.forEach(job -> giveBack(job.run));
    node.down(name, "restarting after an unexpected failure");
    return Behaviors.same();
  }

  private Behavior<Command> stopped() {
    node.down(name, "stopped");
    engine.stop();
    return Behaviors.same();
  }

  /** A job this worker will not run: its frontend sends it to another worker first. */
  private void giveBack(Run run) {
    run.frontend().tell(new Frontend.JobReturned(run.jobId(), getContext().getSelf()));
  }

  private void done(PreparedJob job, long nanos, long runs) {
    Run run = job.run;
    run.frontend()
        .tell(
            new Frontend.JobDone(
                run.jobId(),
                getContext().getSelf(),
                name,
                job.rows.size(),
                job.tokens(),
                runs,
                nanos));
  }
}

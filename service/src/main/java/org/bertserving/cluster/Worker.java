package org.bertserving.cluster;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
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
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.bertserving.client.protocol.WireMessage;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineException;

/**
 * One engine on one device, registered with the Receptionist once warmed up. Runs the rows of all
 * segments of a job together (one length-sorted batch plan), answers each segment's aggregator (in
 * chunks that fit a remote message), then tells the frontend the job is done so that it may send
 * another. The frontend never gives a worker more than {@code prefetch_size} jobs. Pipelined: the
 * TensorFlow run goes on a thread of the worker's blocking dispatcher while the actor tokenizes the
 * next job, so the device never waits for CPU-side work between jobs.
 *
 * <p>A failed TensorFlow run fails that job (the frontend sends it elsewhere once) and the worker
 * recovers by itself: it opens a new session and warms it up on its engine thread, waiting longer
 * before each try while tries fail ({@link #MIN_BACKOFF} doubling up to {@link #MAX_BACKOFF}), and
 * never gives up. Meanwhile its node is not ready, any job it is sent goes straight back to its
 * frontend untried, and the frontends' {@link Describe} wait for the new session: the frontend
 * gives a worker no new job between its failure and that answer. What the actor does not expect (a
 * bug, not a device) restarts it under its supervisor.
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

  /** Restarts of the actor itself (an unexpected failure) allowed a minute. */
  private static final int RESTARTS = 3;

  public interface Command {}

  /** Run one job and report to {@code frontend}. */
  public record Run(long jobId, Job job, ActorRef<Frontend.Command> frontend)
      implements Command, WireMessage {}

  /** A frontend that has just seen this worker asks for its {@link Frontend.WorkerInfo}. */
  public record Describe(ActorRef<Frontend.Command> frontend) implements Command, WireMessage {}

  /** A TensorFlow run ended, on the worker's own thread. */
  private record Ran(PreparedJob job, float[][] vectors, Throwable failure, long nanos, long runs)
      implements Command, akka.actor.NoSerializationVerificationNeeded {}

  /** Time to open a new session (after a failure). */
  private enum Reopen implements Command, akka.actor.NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** A new session was opened and warmed up, or failed to: its speed, or the failure. */
  private record Reopened(Double tokensPerSecond, Throwable failure)
      implements Command, akka.actor.NoSerializationVerificationNeeded {}

  private final BertEncoder encoder;
  private final NodeWorkers node;
  private final ResultChunker chunker;
  private final String name;
  private final TimerScheduler<Command> timers;
  private double tokensPerSecond;

  /** Failures in a row (runs, then warm-ups of new sessions), for the wait before the next try. */
  private int failures;

  /** Frontends that asked who this worker is while it recovered: answered by the new session. */
  private final java.util.Set<ActorRef<Frontend.Command>> askedWhileRecovering =
      new java.util.LinkedHashSet<>();

  /** Jobs tokenized and waiting for the run in progress to end (at most prefetch_size - 1). */
  private final ArrayDeque<PreparedJob> waiting = new ArrayDeque<>();

  private boolean running;
  private final ExecutorService engineThread;

  private Worker(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      BertEncoder encoder,
      NodeWorkers node,
      ResultChunker chunker,
      boolean restarted) {
    super(context);
    this.timers = timers;
    this.encoder = encoder;
    this.node = node;
    this.chunker = chunker;
    this.name = context.getSystem().address() + "/" + context.getSelf().path().name();
    if (restarted) {
      try {
        encoder.restartSession();
      } catch (IOException | RuntimeException e) {
        throw new EngineException("cannot open a new TensorFlow session: " + e.getMessage(), e);
      }
    }
    // every TensorFlow call of this worker on one thread of its own: TensorFlow's oneDNN kernels
    // keep their primitives per thread, and a run from a new thread of a pool was measured 1.5x
    // slower (an 8-token query: 45 ms instead of 30 on BERT-Base here)
    this.engineThread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "bert-engine-" + context.getSelf().path().name());
              t.setDaemon(true);
              return t;
            });
    // warm up (under -xla: compile every shape) and measure first, so that a registered worker
    // answers at full speed (and /ready means ready), and the frontend knows its speed at once
    this.tokensPerSecond = CompletableFuture.supplyAsync(this::warmUp, engineThread).join();
    context.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, context.getSelf()));
    node.ready(name);
  }

  /** Warms the session up and measures it, on the engine thread: its tokens per second. */
  private double warmUp() {
    Integer maxSeqLen = encoder.settings().maxSeqLen();
    encoder.warmUp();
    return encoder.calibrate(
        Math.min(16, encoder.settings().maxBatchSize()),
        Math.min(maxSeqLen == null ? 64 : maxSeqLen, 64));
  }

  /**
   * @param node this node's record of its workers (readiness)
   * @param chunker cuts results for aggregators on other nodes
   */
  public static Behavior<Command> create(
      BertEncoder encoder, NodeWorkers node, ResultChunker chunker) {
    boolean[] started = {false};
    Behavior<Command> worker =
        Behaviors.setup(
            context ->
                Behaviors.withTimers(
                    timers -> {
                      boolean restarted = started[0];
                      started[0] = true;
                      return new Worker(context, timers, encoder, node, chunker, restarted);
                    }));
    // the device's failures are the worker's own to recover from (recovering()); this restarts
    // it, with a new session, only on what it does not expect, a few times a minute
    return Behaviors.supervise(worker)
        .onFailure(
            EngineException.class,
            SupervisorStrategy.restart().withLimit(RESTARTS, Duration.ofMinutes(1)));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Run.class, this::onRun)
        .onMessage(Describe.class, this::onDescribe)
        .onMessage(Ran.class, this::onRan)
        .onSignal(PreRestart.class, s -> down())
        .onSignal(PostStop.class, s -> down())
        .build();
  }

  private Behavior<Command> down() {
    node.down(name);
    engineThread.shutdown();
    return this;
  }

  /** The failure of a run or of a new session's warm-up, as one EngineException. */
  private static EngineException engineFailure(Throwable failure) {
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    return cause instanceof EngineException engine
        ? engine
        : new EngineException(String.valueOf(cause.getMessage()), cause);
  }

  private Behavior<Command> onDescribe(Describe describe) {
    describe(describe.frontend());
    return this;
  }

  private void describe(ActorRef<Frontend.Command> frontend) {
    BertEncoder.DeviceReport device = encoder.device();
    frontend.tell(
        new Frontend.WorkerInfo(
            getContext().getSelf(),
            name,
            tokensPerSecond,
            device.device(),
            device.tensorflow(),
            device.cudaRuntime(),
            device.cudnn(),
            device.memoryUsedMib(),
            device.memoryLimitMib(),
            encoder.warmCompiles(),
            encoder.liveCompiles()));
  }

  /**
   * Tokenizes the job now (the run before it may still compute), then runs it when it is its turn.
   */
  private Behavior<Command> onRun(Run run) {
    PreparedJob job = PreparedJob.prepare(run, encoder);
    if (job.rows.isEmpty()) {
      done(job, 0, 0);
    } else {
      waiting.add(job);
      startNext();
    }
    return this;
  }

  /** Starts the next prepared job's TensorFlow run on the worker's own threads, if none runs. */
  private void startNext() {
    while (!running && !waiting.isEmpty()) {
      PreparedJob job = waiting.poll();
      if (job.expired()) {
        done(job, 0, 0); // its requests timed out while it waited: not computed for nobody
        continue;
      }
      running = true;
      long start = System.nanoTime();
      long runsBefore = encoder.runs();
      getContext()
          .pipeToSelf(
              CompletableFuture.supplyAsync(() -> encoder.pooled(job.rows), engineThread),
              (vectors, failure) ->
                  new Ran(
                      job,
                      vectors,
                      failure,
                      System.nanoTime() - start,
                      encoder.runs() - runsBefore));
    }
  }

  private Behavior<Command> onRan(Ran ran) {
    running = false;
    if (ran.failure() != null) {
      EngineException e = engineFailure(ran.failure());
      Run run = ran.job().run;
      run.frontend()
          .tell(new Frontend.JobFailed(run.jobId(), getContext().getSelf(), name, e.getMessage()));
      // the jobs prepared behind it were not tried: back to the frontend, not failed
      for (PreparedJob waitingJob : waiting) {
        giveBack(waitingJob.run);
      }
      waiting.clear();
      return recover(e);
    }
    failures = 0;
    // the next job's run first: its device computes while this one's rows are sent
    startNext();
    ran.job().deliver(ran.vectors(), encoder, chunker);
    done(ran.job(), ran.nanos(), ran.runs());
    return this;
  }

  /** A session failed: not ready, and a new one after the wait this failure in a row earns. */
  private Behavior<Command> recover(EngineException cause) {
    failures++;
    long wait =
        Math.min(MAX_BACKOFF.toMillis(), MIN_BACKOFF.toMillis() << Math.min(20, failures - 1));
    node.down(name);
    getContext()
        .getLog()
        .error(
            "worker {}: {}; a new TensorFlow session in {} ms (failure {} in a row)",
            name,
            cause.getMessage(),
            wait,
            failures);
    timers.startSingleTimer(Reopen.INSTANCE, Duration.ofMillis(wait));
    return recovering();
  }

  /** Between a failure and a working new session: jobs go back untried, descriptions wait. */
  private Behavior<Command> recovering() {
    return newReceiveBuilder()
        .onMessage(
            Run.class,
            run -> {
              giveBack(run);
              return Behaviors.same();
            })
        .onMessage(
            Describe.class,
            d -> {
              askedWhileRecovering.add(d.frontend());
              return Behaviors.same();
            })
        .onMessageEquals(Reopen.INSTANCE, this::onReopen)
        .onMessage(Reopened.class, this::onReopened)
        .onSignal(PostStop.class, s -> down())
        .build();
  }

  private Behavior<Command> onReopen() {
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    encoder.restartSession();
                  } catch (IOException e) {
                    throw new EngineException("cannot open a new TensorFlow session", e);
                  }
                  return warmUp();
                },
                engineThread),
            Reopened::new);
    return Behaviors.same();
  }

  private Behavior<Command> onReopened(Reopened reopened) {
    if (reopened.failure() != null) {
      return recover(engineFailure(reopened.failure()));
    }
    tokensPerSecond = reopened.tokensPerSecond();
    node.ready(name);
    getContext().getLog().info("worker {}: back with a new session", name);
    askedWhileRecovering.forEach(this::describe);
    askedWhileRecovering.clear();
    return this;
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

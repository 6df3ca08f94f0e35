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
 * <p>A failed TensorFlow run fails that job (the frontend sends it elsewhere once) and restarts the
 * worker with a new session; a worker that cannot get a working session within {@link #RESTARTS}
 * restarts a minute stops, and its node is no longer ready.
 */
public final class Worker extends AbstractBehavior<Worker.Command> {
  public static final ServiceKey<Command> SERVICE_KEY =
      ServiceKey.create(Command.class, "bert-workers");

  /** Restarts (new sessions) allowed within {@link #RESTART_WINDOW} before the worker gives up. */
  static final int RESTARTS = 3;

  static final Duration RESTART_WINDOW = Duration.ofMinutes(1);

  public interface Command {}

  /** Run one job and report to {@code frontend}. */
  public record Run(long jobId, Job job, ActorRef<Frontend.Command> frontend)
      implements Command, WireMessage {}

  /** A frontend that has just seen this worker asks for its {@link Frontend.WorkerInfo}. */
  public record Describe(ActorRef<Frontend.Command> frontend) implements Command, WireMessage {}

  /** A TensorFlow run ended, on the worker's own thread. */
  private record Ran(PreparedJob job, float[][] vectors, Throwable failure, long nanos, long runs)
      implements Command, akka.actor.NoSerializationVerificationNeeded {}

  private final BertEncoder encoder;
  private final NodeWorkers node;
  private final ResultChunker chunker;
  private final String name;
  private final double tokensPerSecond;

  /** Jobs tokenized and waiting for the run in progress to end (at most prefetch_size - 1). */
  private final ArrayDeque<PreparedJob> waiting = new ArrayDeque<>();

  private boolean running;
  private final ExecutorService engineThread;

  private Worker(
      ActorContext<Command> context,
      BertEncoder encoder,
      NodeWorkers node,
      ResultChunker chunker,
      boolean restarted) {
    super(context);
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
    Integer maxSeqLen = encoder.settings().maxSeqLen();
    this.tokensPerSecond =
        CompletableFuture.supplyAsync(
                () -> {
                  encoder.warmUp();
                  return encoder.calibrate(
                      Math.min(16, encoder.settings().maxBatchSize()),
                      Math.min(maxSeqLen == null ? 64 : maxSeqLen, 64));
                },
                engineThread)
            .join();
    context.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, context.getSelf()));
    node.ready(name);
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
            context -> {
              boolean restarted = started[0];
              started[0] = true;
              return new Worker(context, encoder, node, chunker, restarted);
            });
    // a failed run leaves the session suspect: restart with a new one, a few times a minute
    return Behaviors.supervise(worker)
        .onFailure(
            EngineException.class,
            SupervisorStrategy.restart().withLimit(RESTARTS, RESTART_WINDOW));
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

  private Behavior<Command> onDescribe(Describe describe) {
    BertEncoder.DeviceReport device = encoder.device();
    describe
        .frontend()
        .tell(
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
    return this;
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
      Throwable cause =
          ran.failure() instanceof CompletionException && ran.failure().getCause() != null
              ? ran.failure().getCause()
              : ran.failure();
      EngineException e =
          cause instanceof EngineException engine
              ? engine
              : new EngineException(String.valueOf(cause.getMessage()), cause);
      getContext()
          .getLog()
          .error("worker {}: {}; restarting with a new session", name, e.getMessage());
      Run run = ran.job().run;
      run.frontend()
          .tell(new Frontend.JobFailed(run.jobId(), getContext().getSelf(), name, e.getMessage()));
      // the jobs prepared behind it were not tried: back to the frontend, not failed
      for (PreparedJob waitingJob : waiting) {
        waitingJob
            .run
            .frontend()
            .tell(new Frontend.JobReturned(waitingJob.run.jobId(), getContext().getSelf()));
      }
      waiting.clear();
      throw e;
    }
    ran.job().deliver(ran.vectors(), encoder, chunker);
    done(ran.job(), ran.nanos(), ran.runs());
    startNext();
    return this;
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

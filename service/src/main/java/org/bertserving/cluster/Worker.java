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
import java.util.ArrayList;
import java.util.List;
import org.bertserving.client.protocol.WireMessage;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineException;
import org.bertserving.engine.Featurizer.Featurized;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.InvalidInputException;

/**
 * One engine on one device, registered with the Receptionist once warmed up. Runs the rows of
 * all segments of a job together (one length-sorted batch plan), answers each segment's aggregator
 * (in chunks that fit a remote message), then tells the frontend the job is done so that it may
 * send another. The frontend never gives a worker more than {@code prefetch_size} jobs. Runs on
 * its own blocking dispatcher.
 *
 * <p>A failed TensorFlow run fails that job (the frontend sends it elsewhere once) and restarts
 * the worker with a new session; a worker that cannot get a working session within
 * {@link #RESTARTS} restarts a minute stops, and its node is no longer ready.
 */
public final class Worker extends AbstractBehavior<Worker.Command> {
  public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "bert-workers");

  /** Restarts (new sessions) allowed within {@link #RESTART_WINDOW} before the worker gives up. */
  static final int RESTARTS = 3;

  static final Duration RESTART_WINDOW = Duration.ofMinutes(1);

  public interface Command {}

  /** Run one job and report to {@code frontend}. */
  public record Run(long jobId, Job job, ActorRef<Frontend.Command> frontend)
      implements Command, WireMessage {}

  /** A frontend that has just seen this worker asks for its {@link Frontend.WorkerInfo}. */
  public record Describe(ActorRef<Frontend.Command> frontend) implements Command, WireMessage {}

  private final BertEncoder encoder;
  private final NodeWorkers node;
  private final ResultChunker chunker;
  private final String name;
  private final double tokensPerSecond;

  private Worker(ActorContext<Command> context, BertEncoder encoder, NodeWorkers node,
      ResultChunker chunker, boolean restarted) {
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
    // warm up (under -xla: compile every shape) and measure first, so that a registered worker
    // answers at full speed (and /ready means ready), and the frontend knows its speed at once
    encoder.warmUp();
    Integer maxSeqLen = encoder.settings().maxSeqLen();
    this.tokensPerSecond = encoder.calibrate(Math.min(16, encoder.settings().maxBatchSize()),
        Math.min(maxSeqLen == null ? 64 : maxSeqLen, 64));
    context.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, context.getSelf()));
    node.ready(name);
  }

  /**
   * @param node this node's record of its workers (readiness)
   * @param chunker cuts results for aggregators on other nodes
   */
  public static Behavior<Command> create(BertEncoder encoder, NodeWorkers node, ResultChunker chunker) {
    boolean[] started = {false};
    Behavior<Command> worker = Behaviors.setup(context -> {
      boolean restarted = started[0];
      started[0] = true;
      return new Worker(context, encoder, node, chunker, restarted);
    });
    // a failed run leaves the session suspect: restart with a new one, a few times a minute
    return Behaviors.supervise(worker)
        .onFailure(EngineException.class, SupervisorStrategy.restart().withLimit(RESTARTS, RESTART_WINDOW));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Run.class, this::onRun)
        .onMessage(Describe.class, this::onDescribe)
        .onSignal(PreRestart.class, s -> down())
        .onSignal(PostStop.class, s -> down())
        .build();
  }

  private Behavior<Command> down() {
    node.down(name);
    return this;
  }

  private Behavior<Command> onDescribe(Describe describe) {
    BertEncoder.DeviceReport device = encoder.device();
    describe.frontend().tell(new Frontend.WorkerInfo(getContext().getSelf(), name, tokensPerSecond,
        device.device(), device.tensorflow(), device.cudaRuntime(), device.cudnn(),
        device.memoryUsedMib(), device.memoryLimitMib(), encoder.warmCompiles(),
        encoder.liveCompiles()));
    return this;
  }

  private Behavior<Command> onRun(Run run) {
    long start = System.nanoTime();
    long runsBefore = encoder.runs();
    long now = System.currentTimeMillis();
    List<Job.Segment> live = new ArrayList<>();
    List<Featurized> features = new ArrayList<>();
    List<InputFeatures> rows = new ArrayList<>();
    for (Job.Segment segment : run.job().segments()) {
      if (segment.deadlineMillis() < now) {
        continue; // its request has timed out: not computed for nobody
      }
      try {
        segment.options().width(encoder.dim()); // dimensions out of range: refused before any run
        Featurized f = encoder.featurizer().featurize(segment.inputs(), segment.isTokenized(),
            segment.options());
        live.add(segment);
        features.add(f);
        rows.addAll(f.rows());
      } catch (InvalidInputException e) {
        segment.aggregator().tell(Aggregator.JobResult.failed(segment.requestId(), segment.offset(),
            400, "invalid_input", e.shifted(segment.offset()).getMessage()));
      }
    }
    long tokens = 0;
    if (!rows.isEmpty()) {
      float[][] vectors;
      try {
        vectors = encoder.pooled(rows);
      } catch (EngineException e) {
        getContext().getLog().error("worker {}: {}; restarting with a new session", name, e.getMessage());
        run.frontend().tell(new Frontend.JobFailed(run.jobId(), getContext().getSelf(), name,
            e.getMessage()));
        throw e;
      }
      int next = 0;
      for (int s = 0; s < live.size(); s++) {
        Featurized f = features.get(s);
        int n = f.rows().size();
        // rows of several requests ran together; each gets its own normalization and dimensions
        Job.Segment segment = live.get(s);
        float[][] own = encoder.output(java.util.Arrays.copyOfRange(vectors, next, next + n),
            segment.options());
        chunker.send(segment, f, own, 0, segment.options().width(encoder.dim()));
        next += n;
      }
      for (InputFeatures row : rows) {
        tokens += row.length();
      }
    }
    run.frontend().tell(new Frontend.JobDone(run.jobId(), getContext().getSelf(), name,
        rows.size(), tokens, encoder.runs() - runsBefore, System.nanoTime() - start));
    return this;
  }
}

package org.bertserving.cluster;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bertserving.client.protocol.WireMessage;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.Featurizer.Featurized;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.InvalidInputException;

/**
 * One engine on one device, registered with the Receptionist once warmed up. Runs the rows of
 * all segments of a job together (one length-sorted batch plan), answers each segment's aggregator,
 * then tells the frontend the job is done so that it may send another. The frontend never gives a
 * worker more than {@code prefetch_size} jobs. Runs on its own blocking dispatcher.
 */
public final class Worker extends AbstractBehavior<Worker.Command> {
  public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "bert-workers");

  public interface Command {}

  /** Run one job and report to {@code frontend}. */
  public record Run(long jobId, Job job, ActorRef<Frontend.Command> frontend)
      implements Command, WireMessage {}

  private final BertEncoder encoder;
  private final String name;

  private Worker(ActorContext<Command> context, BertEncoder encoder, Runnable onReady) {
    super(context);
    this.encoder = encoder;
    this.name = context.getSystem().address() + "/" + context.getSelf().path().name();
    // warm up first, so that a registered worker answers at full speed (and /ready means ready)
    encoder.encode(List.of("warm up"), false);
    context.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, context.getSelf()));
    onReady.run();
  }

  /** @param onReady called once the worker is warmed up and registered (readiness probes) */
  public static Behavior<Command> create(BertEncoder encoder, Runnable onReady) {
    return Behaviors.setup(context -> new Worker(context, encoder, onReady));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(Run.class, this::onRun).build();
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
        Featurized f = encoder.featurizer().featurize(segment.inputs(), segment.isTokenized());
        live.add(segment);
        features.add(f);
        rows.addAll(f.rows());
      } catch (InvalidInputException e) {
        segment.aggregator().tell(Aggregator.JobResult.failed(segment.requestId(), segment.offset(),
            e.shifted(segment.offset()).getMessage()));
      }
    }
    if (!rows.isEmpty()) {
      float[][] vectors = encoder.run(rows);
      int next = 0;
      for (int s = 0; s < live.size(); s++) {
        Job.Segment segment = live.get(s);
        Featurized f = features.get(s);
        int n = f.rows().size();
        List<float[]> part = Arrays.asList(Arrays.copyOfRange(vectors, next, next + n));
        next += n;
        List<List<String>> tokens = f.rows().stream().map(InputFeatures::tokens).toList();
        segment.aggregator().tell(new Aggregator.JobResult(segment.requestId(), segment.offset(),
            encoder.dim(), f.outputLength(), part, tokens, null));
      }
    }
    run.frontend().tell(new Frontend.JobDone(run.jobId(), getContext().getSelf(), name,
        rows.size(), encoder.runs() - runsBefore, System.nanoTime() - start));
    return this;
  }
}

package org.bertserving.cluster;

import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.ActorContext;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.EncodeRequest;

/**
 * The frontend's door for requests, whichever door they came in by (HTTP, ZeroMQ, cluster client),
 * plain Java on the frontend's thread: refuses what is invalid or cannot be run now, admits the
 * rest by the work it brings ({@link Admission}), gives each admitted request its {@link
 * Aggregator} (a child of the frontend) and its rows as one {@link Job.Segment}, and keeps count of
 * the requests in flight until their aggregator says they are finished.
 */
final class Intake {
  private final ServingSettings settings;
  private final Metrics metrics;
  private final ActorContext<Frontend.Command> context;

  /** The characters one text may have: a job, its texts as CBOR, must fit one message. */
  private final long maxTextChars;

  /** A request in flight: when it was admitted ({@link System#nanoTime()}), by which model. */
  private record Active(long started, Admission admission, String model) {}

  private final Map<String, Active> active = new HashMap<>();

  private long pendingRows;

  /**
   * Rows pending per model: {@code max-pending-rows} bounds each model's, so that a burst on one
   * model never refuses another's requests.
   */
  private final Map<String, Long> pendingByModel = new HashMap<>();

  Intake(
      ServingSettings settings,
      Metrics metrics,
      long maxTextChars,
      ActorContext<Frontend.Command> context) {
    this.settings = settings;
    this.metrics = metrics;
    this.maxTextChars = maxTextChars;
    this.context = context;
  }

  /**
   * Takes a request: its rows for {@code workers} (its model's), or {@code null} when it was
   * refused (and its caller answered).
   */
  Job.Segment take(Frontend.Encode encode, Dispatch workers) {
    Admission admission = workers.admission();
    EncodeRequest request = encode.request();
    List<Object> inputs = request.inputs();
    metrics.requests.increment();
    EncodeFailure refused = refusal(request, inputs, workers);
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
      return null;
    }
    int size = inputs.size();
    String requestId = UUID.randomUUID().toString();
    long deadline = System.nanoTime() + settings.requestTimeout().toNanos();
    boolean showTokens = request.showTokens() || settings.showTokensToClient();
    ActorRef<Aggregator.Command> aggregator =
        context.spawn(
            Aggregator.create(
                requestId,
                request.id(),
                size,
                workers.tokenLevel(), // the model's own, not this node's first model's
                showTokens,
                settings.requestTimeout(),
                encode.replyTo(),
                context.getSelf(),
                workers.model()),
            "request-" + requestId);
    active.put(requestId, new Active(System.nanoTime(), admission, workers.model()));
    pendingByModel.merge(workers.model(), (long) size, Long::sum);
    admission.admitted(requestId, tokens, size);
    Job.Segment rows =
        Requests.segment(
            requestId,
            aggregator,
            inputs,
            request.isTokenized(),
            deadline,
            Requests.options(request),
            showTokens);
    pendingRows += size;
    metrics.rows.add(size);
    return rows;
  }

  /** Why a request cannot be taken now, or {@code null}. */
  private EncodeFailure refusal(EncodeRequest request, List<Object> inputs, Dispatch workers) {
    EncodeFailure invalid =
        Requests.invalid(request, inputs, settings.maxRequestRows(), maxTextChars);
    if (invalid != null) {
      return invalid;
    }
    String unavailable = workers.unavailable();
    if (unavailable != null) {
      return new EncodeFailure(request.id(), 503, "no_worker", unavailable, 1);
    }
    int size = inputs.size();
    long pending = pendingByModel.getOrDefault(workers.model(), 0L);
    if (pending > 0 && pending + size > settings.maxPendingRows()) {
      return new EncodeFailure(
          request.id(),
          429,
          "overloaded",
          pending
              + " rows of model '"
              + workers.model()
              + "' pending; "
              + "at most "
              + settings.maxPendingRows()
              + " (bert-serving.frontend.max-pending-rows)",
          (int) Math.max(1, Math.ceil(workers.admission().backlogSeconds())));
    }
    return null;
  }

  /** A request refused before it reached a model (unknown, or without a live worker). */
  void refuse(Frontend.Encode encode, EncodeFailure refused) {
    metrics.requests.increment();
    metrics.reply(refused.status());
    encode.replyTo().tell(refused);
  }

  /** A request whose handling failed (a bug) is answered with a 500, the frontend goes on. */
  void failed(Frontend.Encode encode, RuntimeException e) {
    context.getLog().error("the frontend failed to take a request; answering 500", e);
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
  }

  /** Whether a request still waits for rows (its aggregator has not finished). */
  boolean waiting(String requestId) {
    return active.containsKey(requestId);
  }

  /** A request's aggregator answered it: its rows are no longer pending. */
  void finished(Frontend.RequestFinished finished) {
    Active started = active.remove(finished.requestId());
    if (started != null) {
      started.admission().finished(finished.requestId());
      pendingByModel.merge(started.model(), (long) -finished.rows(), Long::sum);
    }
    pendingRows -= finished.rows();
    int status =
        finished.outcome() instanceof EncodeReply
            ? 200
            : ((EncodeFailure) finished.outcome()).status();
    metrics.reply(status);
    if (started != null) {
      metrics.latency.observe((System.nanoTime() - started.started()) / 1e9);
    }
  }

  long pendingRows() {
    return pendingRows;
  }
}

package org.bertserving.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.client.protocol.StatusReply;
import org.bertserving.cluster.Frontend;
import org.bertserving.cluster.Metrics;
import org.bertserving.cluster.Readiness;
import org.bertserving.cluster.ServingSettings;

/**
 * The HTTP API: bert-as-service's {@code POST /encode}, OpenAI's {@code POST /v1/embeddings},
 * status, health, readiness, metrics. Thin: parse, ask the frontend, render; every error is JSON
 * {@code {"status", "type", "description"}} (see {@link Errors}).
 */
public final class Routes extends AllDirectives {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorSystem<?> system;
  private final ActorRef<Frontend.Command> frontend;
  private final ServingSettings settings;
  private final Metrics metrics;
  private final Supplier<Readiness> readiness;
  private final Duration askTimeout;

  /** @param frontend the frontend, or {@code null} on a worker-only node (probes only) */
  public Routes(ActorSystem<?> system, ActorRef<Frontend.Command> frontend,
      ServingSettings settings, Metrics metrics, Supplier<Readiness> readiness) {
    this.system = system;
    this.frontend = frontend;
    this.settings = settings;
    this.metrics = metrics;
    this.readiness = readiness;
    // the frontend answers every request by its own timeout; this only guards against a lost actor
    this.askTimeout = settings.requestTimeout().plus(ServingSettings.GRACE);
  }

  public Route routes() {
    Route probes = concat(Probes.health(), Probes.ready(readiness),
        path("metrics", () -> Probes.getOrHead(() -> complete(PrometheusText.response(metrics)))));
    Route api = frontend == null
        ? concat(probes, pathPrefix("encode", () -> complete(Errors.response(404, "not_found",
            "this node is a worker: send requests to a frontend"))))
        : concat(
            path("encode", () -> post(() -> jsonBody(this::encode))),
            pathPrefix("v1", () -> concat(
                path("embeddings", () -> post(() -> jsonBody(this::embeddings))),
                path("models", () -> get(this::models)))),
            pathPrefix("status", () -> path("server", () -> get(this::status))),
            probes);
    Route guarded = handleExceptions(Errors.exceptionHandler(), () ->
        handleRejections(Errors.rejectionHandler(), () ->
            withSizeLimit(settings.maxBodyBytes(), () ->
                decodeRequest(() -> encodeResponse(() -> api)))));
    // akka-http's own timeout is set past ours (BertServer derives it); should it ever fire, it
    // answers in the same JSON as every other error
    return withRequestTimeoutResponse(request -> Errors.response(504, "timeout",
        "no answer within the HTTP server's request timeout"), () -> Cors.wrap(settings.cors(), guarded));
  }

  private Route jsonBody(java.util.function.Function<JsonNode, Route> handler) {
    return entity(Unmarshaller.entityToString(), body -> {
      JsonNode node;
      try {
        node = JSON.readTree(body);
      } catch (Exception e) {
        return complete(Errors.response(400, "invalid_json", "body is not valid JSON: "
            + e.getMessage().split("\n")[0]));
      }
      if (node == null || !node.isObject()) {
        return complete(Errors.response(400, "invalid_json", "body must be a JSON object"));
      }
      try {
        return handler.apply(node);
      } catch (Fields.BadField e) {
        return complete(Errors.response(400, "invalid_input", e.getMessage()));
      }
    });
  }

  // ---- POST /encode ---------------------------------------------------------------------------

  private Route encode(JsonNode body) {
    JsonNode texts = body.get("texts");
    if (texts == null || !texts.isArray()) {
      return complete(Errors.response(400, "invalid_input",
          "'texts' must be a list of strings (or of token lists with \"is_tokenized\": true)"));
    }
    EncodeRequest request = new EncodeRequest(body.get("id"), texts,
        Fields.flag(body, "is_tokenized", false), Fields.flag(body, "show_tokens", false),
        Fields.optionalString(body, "prompt"), Fields.optionalBoolean(body, "normalize"),
        Fields.optionalInt(body, "dimensions"));
    return completeWithFuture(ask(request).thenApply(outcome -> Rendering.encode(outcome)));
  }

  // ---- POST /v1/embeddings (OpenAI-compatible) ------------------------------------------------

  private Route embeddings(JsonNode body) {
    JsonNode input = body.get("input");
    JsonNode texts;
    if (input != null && input.isTextual()) {
      texts = JSON.createArrayNode().add(input);
    } else if (input != null && input.isArray()) {
      texts = input;
    } else {
      return complete(Errors.response(400, "invalid_input", "'input' must be a string or a list of strings"));
    }
    String format = body.path("encoding_format").asText("float");
    if (!format.equals("float") && !format.equals("base64")) {
      return complete(Errors.response(400, "invalid_input",
          "'encoding_format' must be \"float\" or \"base64\", not \"" + format + "\""));
    }
    if (settings.engine().poolingStrategy().isTokenLevel()) {
      return complete(Errors.response(400, "unsupported", "this server pools NONE (token vectors);"
          + " /v1/embeddings needs one vector per input: use POST /encode"));
    }
    EncodeRequest request = new EncodeRequest(null, texts, false, true)
        .with(null, null, Fields.optionalInt(body, "dimensions"));
    return completeWithFuture(ask(request).thenApply(outcome ->
        Rendering.embeddings(outcome, settings.engine().modelName(), format.equals("base64"))));
  }

  /** OpenAI's model list: the one model this server serves. */
  private Route models() {
    Map<String, Object> model = new java.util.LinkedHashMap<>();
    model.put("id", settings.engine().modelName());
    model.put("object", "model");
    model.put("created", metrics.started.getEpochSecond());
    model.put("owned_by", "bert-serving");
    return complete(json(200, Map.of("object", "list", "data", java.util.List.of(model))));
  }

  // ---- status, readiness ----------------------------------------------------------------------

  private Route status() {
    CompletionStage<StatusReply> status = AskPattern.ask(frontend, Frontend.GetStatus::new,
        ServingSettings.GRACE, system.scheduler());
    return completeWithFuture(status.thenApply(s -> json(200, s.status())));
  }

  private CompletionStage<EncodeOutcome> ask(EncodeRequest request) {
    CompletionStage<EncodeOutcome> outcome = AskPattern.ask(frontend,
        replyTo -> new Frontend.Encode(request, replyTo), askTimeout, system.scheduler());
    return outcome.exceptionally(e -> EncodeFailure.of(request.id(), 504, "timeout",
        "no answer from the frontend within " + askTimeout.toSeconds() + " s"));
  }

  static HttpResponse json(int status, Object body) {
    try {
      return HttpResponse.create().withStatus(status)
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, JSON.writeValueAsBytes(body)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static HttpResponse withRetryAfter(HttpResponse response, int seconds) {
    return seconds > 0 ? response.addHeader(RawHeader.create("Retry-After", String.valueOf(seconds)))
        : response;
  }
}

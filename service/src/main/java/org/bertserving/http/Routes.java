package org.bertserving.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.function.Supplier;
import org.bertserving.client.ServerStatus;
import org.bertserving.client.http.EncodeBody;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.client.protocol.StatusReply;
import org.bertserving.cluster.Frontend;
import org.bertserving.cluster.Metrics;
import org.bertserving.cluster.Readiness;
import org.bertserving.cluster.ServingSettings;

/**
 * The request port: bert-as-service's {@code POST /encode} and {@code GET /status/server}, OpenAI's
 * routes ({@link OpenAiRoutes}), text-embeddings-inference's ({@link TeiRoutes}), the probes,
 * metrics and the status page. Around them, outermost first: CORS ({@code -cors}), the API key
 * (everything but the probes, metrics and the page's static files), errors in each route family's
 * shape ({@link Errors}), gzip.
 */
public final class Routes extends AllDirectives {
  private final ActorSystem<?> system;
  private final ActorRef<Frontend.Command> frontend;
  private final Metrics metrics;
  private final Supplier<Readiness> readiness;
  private final HttpSettings http;
  private final Errors errors;
  private final Api api;

  /**
   * @param frontend the frontend, or {@code null} on a worker-only node (probes only)
   */
  public Routes(
      ActorSystem<?> system,
      ActorRef<Frontend.Command> frontend,
      ServingSettings settings,
      HttpSettings http,
      Metrics metrics,
      Supplier<Readiness> readiness) {
    this.system = system;
    this.frontend = frontend;
    this.metrics = metrics;
    this.readiness = readiness;
    this.http = http;
    this.errors = new Errors(metrics);
    this.api = new Api(system, frontend, settings, http, metrics, errors);
  }

  public Route routes() {
    Route open = concat(Probes.all(readiness, metrics), new StatusPage().routes());
    Route api =
        frontend == null
            ? pathPrefix(
                "encode",
                () ->
                    errors.complete(
                        Dialect.BERT,
                        ApiError.of(
                            404,
                            "not_found",
                            "this node is a worker: send requests to a frontend")))
            : concat(
                path("encode", () -> post(() -> this.api.body.json(Dialect.BERT, this::encode))),
                pathPrefix("status", () -> path("server", () -> get(this::status))),
                new OpenAiRoutes(this.api, metrics.started.getEpochSecond()).routes(),
                new TeiRoutes(this.api).routes(),
                new ScoringRoutes(this.api).routes(),
                new RerankRoutes(this.api).routes());
    Route all = concat(open, http.apiKeys().require(errors, () -> api));
    Route guarded =
        extractUri(
            uri -> {
              Dialect dialect = Dialect.of(uri.path());
              return handleExceptions(
                  errors.exceptions(dialect),
                  () ->
                      handleRejections(
                          errors.rejections(dialect),
                          () -> decodeRequest(() -> new Compression().gzip(() -> all))));
            });
    // akka-http's own timeout is set past ours (BertServer derives it); should it ever fire, it
    // answers in the family's shape like every other error
    return withRequestTimeoutResponse(
        request ->
            errors.made(
                Dialect.of(request.getUri().path()),
                ApiError.of(504, "timeout", "no answer within the HTTP server's request timeout")),
        () -> new Cors(http.corsOrigins(), errors).wrap(guarded));
  }

  // ---- POST /encode ---------------------------------------------------------------------------

  private Route encode(JsonNode json) {
    // checked first, as before the body had a record: the error people hit most names 'texts'
    JsonNode texts = json.get("texts");
    if (texts == null || !texts.isArray()) {
      // with the request's id, as every other answer to it
      return errors.complete(
          Dialect.BERT,
          new ApiError(
              400,
              "invalid_input",
              "'texts' must be a list of strings (or of token lists with \"is_tokenized\": true)",
              null,
              0,
              json.get("id")));
    }
    EncodeRequest request =
        Fields.read(Fields.pythonFlag(json, "is_tokenized"), EncodeBody.class).request();
    // the binary form carries vectors only: an answer with tokens stays JSON
    boolean tokens = request.showTokens() || api.settings.showTokensToClient();
    return extractRequest(
        http ->
            completeWithFuture(
                api.encode(request)
                    .thenApply(!tokens && Npy.wanted(http) ? Rendering::npy : Rendering::encode)));
  }

  // ---- status ---------------------------------------------------------------------------------

  private Route status() {
    return completeWithFuture(
        org.bertserving.cluster.FrontendAsk.status(frontend, system)
            .thenApply(
                s ->
                    s instanceof StatusReply reply
                        ? Json.response(
                            200, Json.MAPPER.convertValue(reply.status(), ServerStatus.class))
                        : errors.made(Dialect.BERT, ApiError.of((EncodeFailure) s))));
  }
}

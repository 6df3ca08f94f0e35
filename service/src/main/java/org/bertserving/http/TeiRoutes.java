package org.bertserving.http;

import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.cluster.ServedModel;
import org.bertserving.cluster.ServedModels;
import org.bertserving.cluster.TokenService;
import org.bertserving.engine.ModelKind;

/**
 * Hugging Face text-embeddings-inference's routes, with its field names and defaults: {@code POST
 * /embed}, {@code /embed_all}, {@code /tokenize}, {@code /decode}, {@code GET /info} ({@code POST
 * /} and {@code /invocations}: {@link ScoringRoutes}). Errors are TEI's {@code {"error",
 * "error_type"}} (see {@link Errors}).
 */
final class TeiRoutes extends AllDirectives {
  static final String VERSION = org.bertserving.cluster.StatusReport.VERSION;

  private final Api api;

  TeiRoutes(Api api) {
    this.api = api;
  }

  Route routes() {
    return concat(
        path("embed", () -> post(() -> api.body.json(Dialect.TEI, this::embed))),
        path("embed_all", () -> post(() -> api.body.json(Dialect.TEI, this::embedAll))),
        // TEI answers it on a model without SPLADE pooling, as every model here is
        path(
            "embed_sparse",
            () ->
                post(
                    () ->
                        api.body.json(
                            Dialect.TEI,
                            body ->
                                api.errors.complete(
                                    Dialect.TEI,
                                    ApiError.of(
                                        424,
                                        "backend",
                                        "/embed_sparse needs a model with SPLADE pooling (a"
                                            + " masked-LM head); this server serves dense"
                                            + " vectors: POST /embed"))))),
        path("tokenize", () -> post(() -> api.body.json(Dialect.TEI, this::tokenize))),
        path("decode", () -> post(() -> api.body.json(Dialect.TEI, this::decode))),
        path("info", () -> get(() -> new TeiInfo(api).route())));
  }

  Route embed(JsonNode body) {
    List<String> texts = Inputs.texts(body, "inputs");
    Kinds.Target target = Kinds.target(api, null, "/embed", ModelKind.EMBEDDING);
    ApiError refused = refusal(texts);
    refused = refused != null ? refused : target.refused();
    if (refused == null && target.tokenLevel()) {
      refused =
          ApiError.of(
              424,
              "backend",
              "model '"
                  + target.name()
                  + "' returns token vectors "
                  + "(-pooling_strategy NONE): use /embed_all, or start it with a pooling strategy");
    }
    boolean normalize = Fields.flag(body, "normalize", true);
    Integer dimensions = Fields.optionalInt(body, "dimensions");
    EncodeRequest request =
        target.on(
            truncation(
                body,
                new EncodeRequest(null, Inputs.literal(texts), false, false)
                    .with(null, normalize, dimensions)));
    return refused != null
        ? api.errors.complete(Dialect.TEI, refused)
        : completeWithFuture(api.encode(request).thenApply(Rendering::embed));
  }

  /** Token vectors, raw (not normalized), of a server that keeps them ({@code NONE}). */
  private Route embedAll(JsonNode body) {
    List<String> texts = Inputs.texts(body, "inputs");
    Kinds.Target target = Kinds.target(api, null, "/embed_all", ModelKind.EMBEDDING);
    ApiError refused = refusal(texts);
    refused = refused != null ? refused : target.refused();
    if (refused == null && target.model() != null && !target.tokenLevel()) {
      refused =
          ApiError.of(
              424,
              "backend",
              "`embed_all` needs token vectors: model '"
                  + target.name()
                  + "' pools them ("
                  + target.model().pooling()
                  + "); start it with "
                  + "-pooling_strategy NONE");
    }
    EncodeRequest request =
        target.on(
            truncation(
                body,
                new EncodeRequest(null, Inputs.literal(texts), false, false)
                    .with(null, false, null)));
    return refused != null
        ? api.errors.complete(Dialect.TEI, refused)
        : completeWithFuture(api.encode(request).thenApply(Rendering::embedAll));
  }

  private Route tokenize(JsonNode body) {
    List<String> texts = Inputs.texts(body, "inputs");
    ApiError refused = refusal(texts);
    boolean special = Fields.flag(body, "add_special_tokens", true);
    String promptName = Fields.optionalString(body, "prompt_name");
    if (refused != null) {
      return api.errors.complete(Dialect.TEI, refused);
    }
    return fromTokenService(
        body,
        model ->
            api.askTokenService(
                model, r -> new TokenService.Tokenize(texts, special, promptName, r)));
  }

  private Route decode(JsonNode body) {
    List<List<Integer>> ids = ids(body.get("ids"));
    boolean skip = Fields.flag(body, "skip_special_tokens", true);
    ApiError refused =
        ids.isEmpty()
            ? ApiError.of(400, "empty", "`ids` cannot be empty")
            : ids.stream().anyMatch(List::isEmpty)
                ? ApiError.of(400, "empty", "`input_ids` cannot be empty")
                : ids.size() > api.http.maxClientBatchSize() ? batchTooLarge(ids.size()) : null;
    if (refused != null) {
      return api.errors.complete(Dialect.TEI, refused);
    }
    return fromTokenService(
        body, model -> api.askTokenService(model, r -> new TokenService.Decode(ids, skip, r)));
  }

  /**
   * The answer of the token service of the model the body names ({@code "model"}, beyond TEI's
   * fields: an unknown one is a 404 naming those served), else of the default model.
   */
  private Route fromTokenService(
      JsonNode body,
      java.util.function.Function<String, java.util.concurrent.CompletionStage<TokenService.Reply>>
          ask) {
    String asked = Fields.optionalString(body, "model");
    ServedModels served = api.served();
    if (asked != null && served.get(asked) == null && !served.models().isEmpty()) {
      return api.errors.complete(
          Dialect.TEI,
          ApiError.of(404, "model_not_found", ServedModels.notServed(asked, served.names())));
    }
    ServedModel fallback = served.defaultModel();
    String model = asked != null ? asked : fallback == null ? null : fallback.name();
    return onSuccess(
        ask.apply(model),
        answer -> {
          if (answer instanceof TokenService.Tokens t) {
            return complete(Json.response(200, t.tokens()));
          }
          if (answer instanceof TokenService.Texts t) {
            return complete(Json.response(200, t.texts()));
          }
          TokenService.Refused r = (TokenService.Refused) answer;
          return api.errors.complete(Dialect.TEI, ApiError.of(r.status(), r.type(), r.message()));
        });
  }

  /** TEI's checks before any work: inputs given, none empty, not too many. */
  private ApiError refusal(List<String> texts) {
    if (texts == null) {
      throw new Fields.BadField("inputs", "'inputs' is required: a string or a list of strings");
    }
    if (texts.isEmpty() || texts.stream().anyMatch(String::isEmpty)) {
      return ApiError.of(400, "empty", "`inputs` cannot be empty");
    }
    return texts.size() > api.http.maxClientBatchSize() ? batchTooLarge(texts.size()) : null;
  }

  ApiError batchTooLarge(int size) {
    return ApiError.of(
        413,
        "validation",
        "batch size "
            + size
            + " > maximum allowed batch size "
            + api.http.maxClientBatchSize()
            + " (-max_client_batch_size)");
  }

  /**
   * {@code truncate} (default: {@code -auto_truncate}), {@code truncation_direction}, {@code
   * prompt_name}.
   */
  EncodeRequest truncation(JsonNode body, EncodeRequest request) {
    boolean truncate = Fields.flag(body, "truncate", api.http.autoTruncate());
    String direction = Fields.optionalString(body, "truncation_direction");
    if (direction != null
        && !direction.equalsIgnoreCase("left")
        && !direction.equalsIgnoreCase("right")) {
      throw new Fields.BadField(
          "truncation_direction",
          "'truncation_direction' must be \"Left\" or \"Right\", not \"" + direction + "\"");
    }
    return request.withTruncation(Fields.optionalString(body, "prompt_name"), truncate, direction);
  }

  /** {@code [1, 2]} or {@code [[1, 2], [3]]}: token ids, each a non-negative integer. */
  private static List<List<Integer>> ids(JsonNode node) {
    if (node == null || !node.isArray()) {
      throw new Fields.BadField(
          "ids",
          "'ids' must be a list of token ids or a list of such lists, not " + Inputs.kind(node));
    }
    boolean batch = node.size() > 0 && node.get(0).isArray();
    for (JsonNode element : node) {
      if (element.isArray() != batch) {
        throw new Fields.BadField(
            "ids",
            "'ids' must be a list of token ids or a list of such lists, not a mix of lists and "
                + Inputs.kind(batch ? element : node.get(0)).replaceFirst("^an? ", "")
                + "s");
      }
    }
    List<List<Integer>> out = new ArrayList<>();
    for (JsonNode list : batch ? node : List.of(node)) {
      List<Integer> ids = new ArrayList<>();
      for (JsonNode id : list) {
        if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
          throw new Fields.BadField("ids", "'ids' must hold token ids (integers >= 0), not " + id);
        }
        ids.add(id.intValue());
      }
      out.add(ids);
    }
    return batch || !node.isEmpty() ? out : List.of();
  }
}

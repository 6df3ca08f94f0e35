package org.bertserving.http;

import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.cluster.ServedModel;
import org.bertserving.cluster.Tokenizers;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.ModelKind;

/**
 * Hugging Face text-embeddings-inference's routes, with its field names and defaults: {@code POST
 * /embed} (and {@code POST /}, where huggingface_hub and Haystack post), {@code /embed_all}, {@code
 * /tokenize}, {@code /decode}, {@code GET /info}. Errors are TEI's {@code {"error", "error_type"}}
 * (see {@link Errors}).
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
        pathSingleSlash(() -> post(() -> api.body.json(Dialect.TEI, this::embed))),
        path("embed_all", () -> post(() -> api.body.json(Dialect.TEI, this::embedAll))),
        path("tokenize", () -> post(() -> api.body.json(Dialect.TEI, this::tokenize))),
        path("decode", () -> post(() -> api.body.json(Dialect.TEI, this::decode))),
        path("info", () -> get(this::info)));
  }

  private Route embed(JsonNode body) {
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
                new EncodeRequest(null, Json.MAPPER.valueToTree(texts), false, false)
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
                new EncodeRequest(null, Json.MAPPER.valueToTree(texts), false, false)
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
    return ask(api.tokenizer(r -> new Tokenizers.Tokenize(texts, special, promptName, r)));
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
    return ask(api.tokenizer(r -> new Tokenizers.Decode(ids, skip, r)));
  }

  private Route ask(java.util.concurrent.CompletionStage<Tokenizers.Reply> reply) {
    return onSuccess(
        reply,
        answer -> {
          if (answer instanceof Tokenizers.Tokens t) {
            return complete(Json.response(200, t.tokens()));
          }
          if (answer instanceof Tokenizers.Texts t) {
            return complete(Json.response(200, t.texts()));
          }
          Tokenizers.Refused r = (Tokenizers.Refused) answer;
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

  /**
   * TEI's {@code /info}: the default model as its workers described it (this node's own settings
   * until one has: a frontend-only node has no model of its own).
   */
  private Route info() {
    EngineSettings e = api.settings.engine();
    ServedModel m = api.served().defaultModel();
    String name = m != null ? m.name() : e.modelName();
    int maxSeqLen = m != null ? m.maxSeqLen() : e.maxSeqLen() != null ? e.maxSeqLen() : 0;
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("model_id", name);
    info.put("model_sha", null);
    info.put("model_dtype", m != null ? m.dtype() : e.fp16() ? "float16" : "float32");
    info.put("served_model_name", name);
    info.put("model_type", m != null ? modelType(m) : embedding(e.poolingStrategy().name()));
    info.put("max_concurrent_requests", api.settings.httpMaxConnections());
    info.put("max_input_length", maxSeqLen > 0 ? maxSeqLen : 512);
    info.put("max_batch_tokens", e.tokenBudget());
    info.put("max_batch_requests", null);
    info.put("max_client_batch_size", api.http.maxClientBatchSize());
    info.put("auto_truncate", api.http.autoTruncate());
    info.put("tokenization_workers", Math.max(1, api.settings.numWorker()));
    info.put("version", VERSION);
    info.put("sha", null);
    info.put("docker_label", null);
    return complete(Json.response(200, info));
  }

  /**
   * TEI's {@code model_type}: {@code embedding} (pooling), {@code reranker}, {@code classifier}.
   */
  private static Map<String, Object> modelType(ServedModel m) {
    if (m.kind() == ModelKind.EMBEDDING) {
      return embedding(m.pooling());
    }
    Map<String, String> id2label = new LinkedHashMap<>();
    Map<String, Integer> label2id = new LinkedHashMap<>();
    for (int i = 0; i < m.labels().size(); i++) {
      id2label.put(String.valueOf(i), m.labels().get(i));
      label2id.put(m.labels().get(i), i);
    }
    return Map.of(
        m.kind() == ModelKind.RERANK ? "reranker" : "classifier",
        Map.of("id2label", id2label, "label2id", label2id));
  }

  /** TEI's names for the pooling: cls, mean, last_token; ours for the others. */
  private static Map<String, Object> embedding(String strategy) {
    String pooling =
        switch (strategy) {
          case "REDUCE_MEAN" -> "mean";
          case "FIRST_TOKEN" -> "cls";
          case "LAST_TOKEN" -> "last_token";
          default -> strategy.toLowerCase(Locale.ROOT);
        };
    return Map.of("embedding", Map.of("pooling", pooling));
  }
}

package org.bertserving.http;

import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.engine.ModelKind;

/**
 * OpenAI's {@code POST /v1/embeddings} (also at {@code /embeddings}, as text-embeddings-inference
 * serves it) and {@code GET /v1/models}, as its SDKs (Python, Node: {@code encoding_format} base64
 * by default), LangChain and LangChain4j call them. {@code model} picks the model among those the
 * cluster serves (an unknown one is a 404 {@code model_not_found} naming them, one of another kind
 * is refused naming it; none: the default model if it is an embedding model, else the first
 * embedding model), and the answer names the model that computed it; {@code user} is read and
 * ignored.
 */
final class OpenAiRoutes extends AllDirectives {
  private final Api api;
  private final long started;

  OpenAiRoutes(Api api, long startedEpochSecond) {
    this.api = api;
    this.started = startedEpochSecond;
  }

  Route routes() {
    Route embeddings = post(() -> api.body.json(Dialect.OPENAI, this::embeddings));
    return concat(
        pathPrefix(
            "v1",
            () ->
                concat(
                    path("embeddings", () -> embeddings),
                    path("models", () -> get(() -> models(null))),
                    // the rest of the path: a served name may hold '/' (BAAI/bge-small-en-v1.5)
                    pathPrefix(
                        "models",
                        () -> path(PathMatchers.remaining(), id -> get(() -> models(id)))))),
        path("embeddings", () -> embeddings));
  }

  private Route embeddings(JsonNode body) {
    List<String> texts = Inputs.texts(body, "input");
    if (texts == null) {
      throw new Fields.BadField("input", "'input' is required: a string or a list of strings");
    }
    if (texts.isEmpty()) {
      throw new Fields.BadField("input", "'input' must not be an empty list");
    }
    // as OpenAI: only the empty string is refused; a text of spaces is embedded ([CLS] [SEP])
    for (int i = 0; i < texts.size(); i++) {
      if (texts.get(i).isEmpty()) {
        throw new Fields.BadField("input", "'input'[" + i + "] is an empty string");
      }
    }
    OpenAiJson.EmbeddingsBody fields = Fields.read(body, OpenAiJson.EmbeddingsBody.class);
    String format = fields.encodingFormat();
    if (format != null && !format.equals("float") && !format.equals("base64")) {
      throw new Fields.BadField(
          "encoding_format",
          "'encoding_format' must be \"float\" or \"base64\", not \"" + format + "\"");
    }
    Kinds.Target target = Kinds.target(api, fields.model(), "/v1/embeddings", ModelKind.EMBEDDING);
    if (target.refused() != null) {
      return api.errors.complete(
          Dialect.OPENAI, ApiError.of(400, "unsupported", target.refused().message()));
    }
    if (target.tokenLevel()) {
      return api.errors.complete(
          Dialect.OPENAI,
          ApiError.of(
              400,
              "unsupported",
              "model '"
                  + target.name()
                  + "' returns token vectors (-pooling_strategy NONE); embeddings need one vector per input"));
    }
    EncodeRequest request =
        target.on(
            // unit length whatever -normalize says, as OpenAI's embeddings are (and TEI's route)
            new EncodeRequest(null, Inputs.literal(texts), false, false)
                .with(null, true, fields.dimensions()));
    boolean base64 = "base64".equals(format);
    return completeWithFuture(
        api.encode(request)
            .thenApply(outcome -> Rendering.embeddings(outcome, target.name(), base64)));
  }

  /**
   * OpenAI's model list ({@code id} null), or one model of it ({@code GET /v1/models/{id}}, 404
   * {@code model_not_found} naming the served ones): every model the cluster serves now, as the
   * frontend sees its workers (a model whose workers all left is not listed until one is back).
   */
  private Route models(String id) {
    return completeWithFuture(
        org.bertserving.cluster.FrontendAsk.status(api.frontend(), api.system)
            .thenApply(
                s -> {
                  if (!(s instanceof org.bertserving.client.protocol.StatusReply reply)) {
                    return Errors.render(
                        Dialect.OPENAI,
                        ApiError.of((org.bertserving.client.protocol.EncodeFailure) s));
                  }
                  List<OpenAiJson.Model> data = new ArrayList<>();
                  for (JsonNode served : reply.status().path("models")) {
                    if (served.path("workers").asInt() > 0) {
                      data.add(
                          new OpenAiJson.Model(
                              served.path("model").asText(),
                              started,
                              "bert-serving",
                              served.path("kind").asText(null)));
                    }
                  }
                  if (id == null) {
                    return Json.response(200, new OpenAiJson.Models(data));
                  }
                  return data.stream()
                      .filter(m -> m.id().equals(id))
                      .findFirst()
                      .map(m -> Json.response(200, m))
                      .orElseGet(
                          () ->
                              Errors.render(
                                  Dialect.OPENAI,
                                  ApiError.of(
                                      404,
                                      "model_not_found",
                                      org.bertserving.cluster.ServedModels.notServed(
                                          id,
                                          String.join(
                                              ", ",
                                              data.stream().map(OpenAiJson.Model::id).toList())))));
                }));
  }
}

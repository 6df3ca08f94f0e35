package org.bertserving.http;

import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bertserving.client.http.RerankAnswer;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.engine.Featurizer;
import org.bertserving.engine.ModelKind;
import org.bertserving.engine.Scores;

/**
 * {@code POST /v1/rerank} as Cohere's and Jina's APIs take it ({@code model}, {@code query}, {@code
 * documents} as strings or {@code {"text"}} objects, {@code top_n}, {@code return_documents}) and
 * answer it ({@code results} of {@code index}, {@code relevance_score} (the sigmoid of the
 * cross-encoder's logit), {@code document}, highest first; {@code model}, {@code usage}, and
 * Cohere's {@code meta}, which its clients read). {@code model} picks the reranker among the models
 * the cluster serves (unknown: 404 {@code model_not_found}; of another kind: refused naming it);
 * none: the cluster's first reranker. Errors in the {@code /v1} family's shape.
 */
final class RerankRoutes extends AllDirectives {
  /** Cohere's {@code meta}: its clients read the billed units. */
  private static final Map<String, Object> COHERE_META =
      Map.of("api_version", Map.of("version", "1"), "billed_units", Map.of("search_units", 1));

  private final Api api;

  RerankRoutes(Api api) {
    this.api = api;
  }

  Route routes() {
    return pathPrefix(
        "v1", () -> path("rerank", () -> post(() -> api.body.json(Dialect.OPENAI, this::rerank))));
  }

  private Route rerank(JsonNode body) {
    String asked = Fields.optionalString(body, "model");
    String query = Fields.optionalString(body, "query");
    if (query == null || query.isBlank()) {
      throw new Fields.BadField("query", "'query' is required: a non-empty string");
    }
    List<String> documents = documents(body.get("documents"));
    Integer topN = Fields.optionalInt(body, "top_n");
    if (topN != null && topN < 1) {
      throw new Fields.BadField("top_n", "'top_n' must be at least 1, not " + topN);
    }
    boolean returnDocuments = Fields.flag(body, "return_documents", false);
    Kinds.Target target = Kinds.target(api, asked, "/v1/rerank", ModelKind.RERANK);
    if (target.refused() != null) {
      return api.errors.complete(
          Dialect.OPENAI, ApiError.of(400, "unsupported", target.refused().message()));
    }
    if (documents.size() > api.http.maxClientBatchSize()) {
      throw new Fields.BadField(
          "documents",
          documents.size()
              + " documents, over the limit of "
              + api.http.maxClientBatchSize()
              + " (-max_client_batch_size)");
    }
    List<Object> pairs = new ArrayList<>(documents.size());
    documents.forEach(d -> pairs.add(Featurizer.pair(query, d)));
    EncodeRequest request =
        target.on(
            new EncodeRequest(null, Json.MAPPER.valueToTree(pairs), false, false)
                .with(null, false, null));
    return completeWithFuture(
        api.encode(request)
            .thenApply(
                outcome -> {
                  if (outcome instanceof EncodeFailure failure) {
                    return Errors.render(Dialect.OPENAI, ApiError.of(failure));
                  }
                  EncodeReply reply = (EncodeReply) outcome;
                  List<RerankAnswer.Result> results = new ArrayList<>();
                  for (int i = 0; i < documents.size(); i++) {
                    results.add(
                        new RerankAnswer.Result(
                            i,
                            Scores.of(reply.rows().get(i), false)[0],
                            returnDocuments ? new RerankAnswer.Document(documents.get(i)) : null));
                  }
                  results.sort(Kinds.highestFirst(RerankAnswer.Result::relevanceScore));
                  return Json.response(
                      200,
                      new RerankAnswer(
                          UUID.randomUUID().toString(),
                          topN == null
                              ? results
                              : results.subList(0, Math.min(topN, results.size())),
                          reply.model(),
                          new RerankAnswer.Usage(reply.totalTokens()),
                          COHERE_META));
                }));
  }

  /** Strings, or objects with a {@code text} (Jina's and Cohere's structured documents). */
  private static List<String> documents(JsonNode node) {
    if (node == null || !node.isArray() || node.isEmpty()) {
      throw new Fields.BadField(
          "documents",
          "'documents' is required: a non-empty list of strings or of {\"text\": ...} objects");
    }
    List<String> out = new ArrayList<>(node.size());
    for (int i = 0; i < node.size(); i++) {
      JsonNode d = node.get(i);
      JsonNode text = d.isObject() ? d.get("text") : d;
      // an empty document is scored against the query, as text-embeddings-inference does
      if (text == null || !text.isTextual()) {
        throw new Fields.BadField(
            "documents",
            "'documents'["
                + i
                + "] must be a string or {\"text\": \"...\"}, not "
                + Inputs.kind(d));
      }
      out.add(text.textValue());
    }
    return out;
  }
}

package org.bertserving.http;

import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bertserving.client.LabelScore;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.engine.Featurizer;
import org.bertserving.engine.ModelKind;
import org.bertserving.engine.Scores;

/**
 * text-embeddings-inference 1.9's scoring routes: {@code POST /rerank} (a cross-encoder scores each
 * text against the query), {@code /predict} (a classifier's labels for a text or a pair) and {@code
 * /similarity} (cosine of an embedding model's vectors). The model answers raw logits; the sigmoid
 * or softmax is applied here unless {@code raw_scores}. Each goes to the cluster's model of the
 * kind it needs ({@link Kinds#target}: the default model if of that kind, else the first to join);
 * with none of that kind it is refused as TEI refuses a model of another kind (424, naming the kind
 * and the routes it serves).
 */
final class ScoringRoutes extends AllDirectives {
  /** One text's place in TEI's {@code /rerank} answer ({@code text} when asked for). */
  @com.fasterxml.jackson.annotation.JsonInclude(
      com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  record Rank(int index, String text, float score) {}

  private final Api api;
  private final TeiRoutes tei;

  ScoringRoutes(Api api) {
    this.api = api;
    this.tei = new TeiRoutes(api);
  }

  Route routes() {
    return concat(
        path("rerank", () -> post(() -> api.body.json(Dialect.TEI, this::rerank))),
        path("predict", () -> post(() -> api.body.json(Dialect.TEI, this::predict))),
        path("similarity", () -> post(() -> api.body.json(Dialect.TEI, this::similarity))),
        // TEI's routes by its model's type: where huggingface_hub's InferenceClient(model=URL) and
        // Haystack post, and SageMaker's /invocations
        pathSingleSlash(() -> post(() -> api.body.json(Dialect.TEI, this::byKind))),
        path("invocations", () -> post(() -> api.body.json(Dialect.TEI, this::byKind))));
  }

  /**
   * {@code POST /} and {@code /invocations}: what TEI answers there for its model's type, by the
   * kind of this cluster's default model: a reranker reranks, a classifier predicts, an embedding
   * model (or none described yet, which the frontend then says) embeds.
   */
  private Route byKind(JsonNode body) {
    org.bertserving.cluster.ServedModel model = api.served().defaultModel();
    ModelKind kind = model == null ? ModelKind.EMBEDDING : model.kind();
    return switch (kind) {
      case RERANK -> rerank(body);
      case CLASSIFY -> predict(body);
      default -> tei.embed(body);
    };
  }

  private Route rerank(JsonNode body) {
    String query = Fields.optionalString(body, "query");
    List<String> texts = Inputs.texts(body, "texts");
    if (query == null || texts == null) {
      String field = query == null ? "query" : "texts";
      throw new Fields.BadField(field, "'" + field + "' is required");
    }
    // as TEI: no texts is refused before the model's kind is looked at; a pair is empty only when
    // both its query and its text are (an empty document is scored, as TEI and a CrossEncoder do)
    ApiError refused =
        texts.isEmpty() ? ApiError.of(400, "empty", "`texts` cannot be empty") : null;
    Kinds.Target target = Kinds.target(api, null, "/rerank", ModelKind.RERANK);
    if (refused == null) {
      refused = target.refused();
    }
    if (refused == null && query.isEmpty() && texts.stream().anyMatch(String::isEmpty)) {
      refused = ApiError.of(400, "empty", "`inputs` cannot be empty");
    }
    if (refused == null && texts.size() > api.http.maxClientBatchSize()) {
      refused = tei.batchTooLarge(texts.size());
    }
    if (refused != null) {
      return api.errors.complete(Dialect.TEI, refused);
    }
    boolean raw = Fields.flag(body, "raw_scores", false);
    boolean returnText = Fields.flag(body, "return_text", false);
    List<Object> pairs = new ArrayList<>(texts.size());
    texts.forEach(text -> pairs.add(Featurizer.pair(query, text)));
    return completeWithFuture(
        api.encode(target.on(request(body, pairs)))
            .thenApply(
                outcome ->
                    render(
                        outcome,
                        reply -> {
                          List<Rank> ranks = new ArrayList<>();
                          for (int i = 0; i < texts.size(); i++) {
                            ranks.add(
                                new Rank(
                                    i,
                                    returnText ? texts.get(i) : null,
                                    Scores.of(reply.rows().get(i), raw)[0]));
                          }
                          ranks.sort(Kinds.highestFirst(Rank::score));
                          return ranks;
                        })));
  }

  /**
   * {@code inputs}: a text, a pair {@code [a, b]}, or a list of texts and pairs (each a string or a
   * one- or two-element list), as TEI's untagged {@code PredictInput}.
   */
  private Route predict(JsonNode body) {
    JsonNode node = body.get("inputs");
    if (node == null || node.isNull()) {
      throw new Fields.BadField("inputs", "'inputs' is required: a text, a pair or a list of them");
    }
    // as TEI reads it: a list whose first element is a text is one input, a text or a pair
    boolean single = node.isTextual() || (node.isArray() && node.path(0).isTextual());
    List<Object> inputs = new ArrayList<>();
    for (JsonNode element : single ? List.of(node) : node) {
      inputs.add(sequence(element, inputs.size(), single));
    }
    Kinds.Target target = Kinds.target(api, null, "/predict", ModelKind.CLASSIFY, ModelKind.RERANK);
    ApiError refused = target.refused();
    if (refused == null && (inputs.isEmpty() || inputs.stream().anyMatch(ScoringRoutes::empty))) {
      refused = ApiError.of(400, "empty", "`inputs` cannot be empty");
    }
    if (refused == null && inputs.size() > api.http.maxClientBatchSize()) {
      refused = tei.batchTooLarge(inputs.size());
    }
    if (refused != null) {
      return api.errors.complete(Dialect.TEI, refused);
    }
    boolean raw = Fields.flag(body, "raw_scores", false);
    // the labels of the model that answers, as its workers described them
    List<String> labels = target.model() == null ? List.of() : target.model().labels();
    return optionalHeaderValueByName(
        "User-Agent",
        agent -> predicted(body, target, inputs, raw, labels, single && !nests(agent.orElse(""))));
  }

  private Route predicted(
      JsonNode body,
      Kinds.Target target,
      List<Object> inputs,
      boolean raw,
      List<String> labels,
      boolean flat) {
    return completeWithFuture(
        api.encode(target.on(request(body, inputs)))
            .thenApply(
                outcome ->
                    render(
                        outcome,
                        reply -> {
                          List<List<LabelScore>> all = new ArrayList<>();
                          for (float[] logits : reply.rows()) {
                            float[] scores = Scores.of(logits, raw);
                            List<LabelScore> row = new ArrayList<>();
                            for (int l = 0; l < scores.length; l++) {
                              String label = l < labels.size() ? labels.get(l) : "LABEL_" + l;
                              row.add(new LabelScore(label, scores[l]));
                            }
                            row.sort(Kinds.highestFirst(LabelScore::score));
                            all.add(row);
                          }
                          return flat ? all.get(0) : all;
                        })));
  }

  /**
   * Hugging Face's JS client ({@code textClassification}) reads the Inference API's answer to one
   * text, a list holding one list of labels, where TEI answers the flat list: that client, known by
   * its User-Agent, gets the shape it reads.
   */
  private static boolean nests(String agent) {
    return agent.contains("@huggingface/inference");
  }

  /**
   * Whether an input of {@link #sequence} is empty, as TEI counts it: a text that is the empty
   * string, a pair empty on both sides (one empty side is a pair still).
   */
  private static boolean empty(Object input) {
    if (input instanceof Map<?, ?> pair) {
      return pair.values().stream().allMatch(side -> ((String) side).isEmpty());
    }
    return ((String) input).isEmpty();
  }

  private static boolean isPair(JsonNode node) {
    return node.isArray() && node.size() == 2 && node.get(0).isTextual() && node.get(1).isTextual();
  }

  private static Object sequence(JsonNode element, int index, boolean single) {
    if (element.isTextual()) {
      return element.textValue();
    }
    if (element.isArray() && element.size() == 1 && element.get(0).isTextual()) {
      return element.get(0).textValue();
    }
    if (isPair(element)) {
      return Featurizer.pair(element.get(0).textValue(), element.get(1).textValue());
    }
    throw new Fields.BadField(
        "inputs",
        (single
            ? "'inputs' as one input is a text or a pair of texts [a, b]; a batch is a list of"
                + " them: [[a], [a, b], ...]"
            : "'inputs'["
                + index
                + "] must be a text or a pair of texts [a, b], not "
                + Inputs.kind(element)));
  }

  private Route similarity(JsonNode body) {
    JsonNode inputs = body.get("inputs");
    if (inputs == null || !inputs.isObject()) {
      throw new Fields.BadField(
          "inputs", "'inputs' must be {\"source_sentence\": ..., \"sentences\": [...]}");
    }
    String source = Fields.optionalString(inputs, "source_sentence");
    List<String> sentences = Inputs.texts(inputs, "sentences");
    if (source == null || sentences == null) {
      String field = source == null ? "source_sentence" : "sentences";
      throw new Fields.BadField("inputs", "'inputs." + field + "' is required");
    }
    Kinds.Target target = Kinds.target(api, null, "/similarity", ModelKind.EMBEDDING);
    ApiError refused = target.refused();
    if (refused == null && target.tokenLevel()) {
      refused =
          ApiError.of(
              424,
              "backend",
              "model '"
                  + target.name()
                  + "' returns token vectors (-pooling_strategy NONE): /similarity needs one vector per text");
    }
    List<String> texts = new ArrayList<>(List.of(source));
    texts.addAll(sentences);
    if (refused == null && (sentences.isEmpty() || texts.stream().anyMatch(String::isEmpty))) {
      refused = ApiError.of(400, "empty", "`inputs` cannot be empty");
    }
    if (refused == null && texts.size() > api.http.maxClientBatchSize()) {
      refused = tei.batchTooLarge(texts.size());
    }
    if (refused != null) {
      return api.errors.complete(Dialect.TEI, refused);
    }
    EncodeRequest request =
        target.on(
            tei.truncation(
                body,
                new EncodeRequest(null, Inputs.literal(texts), false, false)
                    .with(null, true, null)));
    return completeWithFuture(
        api.encode(request)
            .thenApply(
                outcome ->
                    render(
                        outcome,
                        reply -> {
                          float[] a = reply.rows().get(0);
                          List<Float> scores = new ArrayList<>();
                          for (int i = 1; i < reply.rows().size(); i++) {
                            scores.add(Kinds.cosine(a, reply.rows().get(i)));
                          }
                          return scores;
                        })));
  }

  /** Pairs or texts as a request for raw logits (never normalized), with TEI's truncation. */
  private EncodeRequest request(JsonNode body, List<Object> inputs) {
    return tei.truncation(
        body,
        new EncodeRequest(null, Inputs.literal(inputs), false, false).with(null, false, null));
  }

  private static HttpResponse render(
      EncodeOutcome outcome, java.util.function.Function<EncodeReply, Object> answer) {
    if (outcome instanceof EncodeFailure failure) {
      return Errors.render(Dialect.TEI, ApiError.of(failure));
    }
    return Json.response(200, answer.apply((EncodeReply) outcome));
  }
}

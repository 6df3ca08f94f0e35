package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bertserving.client.BertClient;
import org.bertserving.client.ServerStatus;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.Classifiers;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.Scores;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One cluster of three kinds of model, each on a worker node of its own, reached through a
 * frontend-only node whose own engine settings (the tiny embedding model, {@code max_seq_len} 25)
 * are only defaults: an embedding model ({@code model}, {@code max_seq_len} 12), a cross-encoder
 * ({@code tiny-cross-encoder}, 20, the configured default model) and a classifier ({@code
 * tiny-classifier}, three labels, 16). Each route serves the model it targets as its workers
 * described it: by its name, else by the kind the route needs.
 */
class ModelKindsClusterTest {
  static final String EMBEDDER = "model";
  static final String RERANKER = "tiny-cross-encoder";
  static final String CLASSIFIER = "tiny-classifier";
  static final List<String> LABELS = List.of("negative", "neutral", "positive");
  static final String QUERY = "the dog is good";
  static final List<String> DOCS = List.of("hello world", "the good dog is fine", "a cat");

  @TempDir static Path tmp;
  static final List<AutoCloseable> open = new ArrayList<>();
  static String base;
  static BertEncoder embedEngine;
  static BertEncoder rerankEngine;
  static BertEncoder classifyEngine;

  @BeforeAll
  static void start() throws Exception {
    Path cross = Classifiers.tiny(tmp.resolve(RERANKER), List.of("LABEL_0"), 5);
    Path classes = Classifiers.tiny(tmp.resolve(CLASSIFIER), LABELS, 6);
    BertServer frontend =
        TestNodes.start(
            TestNodes.node(
                List.of("frontend"),
                0,
                true,
                Map.of(
                    "bert-serving.frontend.default-model",
                    RERANKER,
                    "bert-serving.engine.max-seq-len",
                    25)));
    open.add(frontend);
    base = "http://127.0.0.1:" + frontend.httpPort();
    int seed = frontend.clusterPort();
    for (Map.Entry<Path, Integer> model :
        Map.of(TestNodes.tinyModel(), 12, cross, 20, classes, 16).entrySet()) {
      open.add(
          BertServer.start(
              TestNodes.node(
                  List.of("worker"),
                  seed,
                  false,
                  Map.of(
                      "bert-serving.engine.model-dir",
                      model.getKey().toString(),
                      "bert-serving.engine.max-seq-len",
                      model.getValue()))));
    }
    TestNodes.awaitWorkers(frontend, 3);
    embedEngine = engine(TestNodes.tinyModel(), 12);
    rerankEngine = engine(cross, 20);
    classifyEngine = engine(classes, 16);
  }

  static BertEncoder engine(Path model, int maxSeqLen) throws Exception {
    BertEncoder engine =
        BertEncoder.load(EngineSettings.builder().modelDir(model).maxSeqLen(maxSeqLen).build());
    open.add(engine);
    return engine;
  }

  @AfterAll
  static void stop() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) { // the engines, the workers, the frontend
      open.get(i).close();
    }
  }

  static HttpResponse<String> post(String path, Object body) throws Exception {
    return Wire.post(base + path, Wire.JSON.writeValueAsString(body));
  }

  /** The cross-encoder's logit of each document against the query. */
  static float[] logits(List<String> docs) {
    return Classifiers.logits(rerankEngine, QUERY, docs);
  }

  @Test
  void rerankRoutesReachTheRerankerThroughAFrontendOnlyNodeAndV1RerankRoutesByItsModel()
      throws Exception {
    float[] logits = logits(DOCS);
    HttpResponse<String> tei = post("/rerank", Map.of("query", QUERY, "texts", DOCS));
    assertEquals(200, tei.statusCode(), tei.body());
    for (JsonNode rank : Wire.json(tei)) {
      float expected = Scores.sigmoid(logits[rank.get("index").asInt()]);
      assertEquals(expected, rank.get("score").floatValue(), 1e-6, tei.body());
    }
    for (Map<String, Object> body :
        List.of(
            Map.<String, Object>of("model", RERANKER, "query", QUERY, "documents", DOCS),
            Map.<String, Object>of("query", QUERY, "documents", DOCS))) { // none: the reranker
      HttpResponse<String> v1 = post("/v1/rerank", body);
      assertEquals(200, v1.statusCode(), v1.body());
      JsonNode answer = Wire.json(v1);
      assertEquals(RERANKER, answer.get("model").asText());
      for (JsonNode result : answer.get("results")) {
        float expected = Scores.sigmoid(logits[result.get("index").asInt()]);
        assertEquals(expected, result.get("relevance_score").floatValue(), 1e-6, v1.body());
      }
    }
    HttpResponse<String> unknown =
        post("/v1/rerank", Map.of("model", "rerank-english-v3.0", "query", "a", "documents", DOCS));
    assertEquals(404, unknown.statusCode(), unknown.body());
    JsonNode error = Wire.json(unknown).get("error");
    assertEquals("model_not_found", error.get("code").asText(), unknown.body());
    assertTrue(error.get("message").asText().contains(RERANKER), unknown.body());
  }

  @Test
  void predictAnswersWithTheClassifiersLabelsAndEmbedWithTheEmbeddingModel() throws Exception {
    float[] expected =
        Scores.of(classifyEngine.encode(List.of("hello world"), false).matrix()[0], false);
    HttpResponse<String> predict = post("/predict", Map.of("inputs", "hello world"));
    assertEquals(200, predict.statusCode(), predict.body());
    JsonNode labels = Wire.json(predict);
    assertEquals(LABELS.size(), labels.size(), predict.body());
    for (JsonNode label : labels) {
      int index = LABELS.indexOf(label.get("label").asText());
      assertTrue(index >= 0, "a label of the classifier: " + label);
      assertEquals(expected[index], label.get("score").floatValue(), 1e-6, predict.body());
    }

    // the default model is the reranker: /embed goes to the embedding model all the same
    float[] vector = embedEngine.encode(List.of("hello world"))[0];
    HttpResponse<String> embed = post("/embed", Map.of("inputs", "hello world"));
    assertEquals(200, embed.statusCode(), embed.body());
    JsonNode got = Wire.json(embed).get(0);
    assertEquals(vector.length, got.size(), "the embedding model's width");
    float[] row = new float[got.size()];
    for (int d = 0; d < row.length; d++) {
      row[d] = got.get(d).floatValue();
    }
    assertEquals(1.0, Kinds.cosine(vector, row), 1e-5, "the embedding model's vector");
    HttpResponse<String> openAi = post("/v1/embeddings", Map.of("input", "hello world"));
    assertEquals(200, openAi.statusCode(), openAi.body());
    assertEquals(EMBEDDER, Wire.json(openAi).get("model").asText());
  }

  @Test
  void aRouteOnAModelOfAnotherKindIsRefusedNamingItsKind() throws Exception {
    HttpResponse<String> rerank =
        post("/v1/rerank", Map.of("model", EMBEDDER, "query", "a", "documents", DOCS));
    assertEquals(400, rerank.statusCode(), rerank.body());
    assertTrue(
        Wire.json(rerank).get("error").get("message").asText().contains("is of kind embedding"),
        rerank.body());
    HttpResponse<String> embeddings =
        post("/v1/embeddings", Map.of("model", CLASSIFIER, "input", "hello world"));
    assertEquals(400, embeddings.statusCode(), embeddings.body());
    assertTrue(
        Wire.json(embeddings).get("error").get("message").asText().contains("is of kind classify"),
        embeddings.body());
  }

  @Test
  void infoAndStatusDescribeTheModelsAsTheirWorkersDo() throws Exception {
    JsonNode info = Wire.json(Wire.get(base + "/info"));
    assertEquals(RERANKER, info.get("model_id").asText(), info.toString());
    assertEquals(20, info.get("max_input_length").asInt(), info.toString());
    assertEquals(
        "LABEL_0",
        info.get("model_type").get("reranker").get("id2label").get("0").asText(),
        info.toString());

    JsonNode status = Wire.json(Wire.get(base + "/status/server"));
    assertEquals(20, status.get("max_seq_len").asInt(), "the default model's");
    Map<String, String> kinds = new java.util.HashMap<>();
    Map<String, Integer> lengths = new java.util.HashMap<>();
    for (JsonNode m : status.get("models")) {
      kinds.put(m.get("model").asText(), m.get("kind").asText());
      lengths.put(m.get("model").asText(), m.get("max_seq_len").asInt());
    }
    assertEquals(
        Map.of(EMBEDDER, "embedding", RERANKER, "rerank", CLASSIFIER, "classify"),
        kinds,
        status.toString());
    assertEquals(Map.of(EMBEDDER, 12, RERANKER, 20, CLASSIFIER, 16), lengths, status.toString());

    // the SDK checks a call's texts against the max_seq_len of the model it targets
    try (BertClient client = BertClient.builder().http(URI.create(base)).build()) {
      ServerStatus sdk = client.serverStatus();
      assertEquals(20, sdk.maxSeqLen(null), "the default model's");
      assertEquals(12, sdk.maxSeqLen(EMBEDDER));
      assertEquals(16, sdk.maxSeqLen(CLASSIFIER));
    }
  }
}

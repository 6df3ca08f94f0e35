package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.cohere.CohereScoringModel;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.Classifiers;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.Featurizer;
import org.bertserving.engine.Scores;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scoring routes on real nodes on loopback, one model each: a cross-encoder (one label) for
 * TEI's {@code /rerank} and Cohere's / Jina's {@code /v1/rerank} (also through LangChain4j's {@code
 * CohereScoringModel}), a classifier (three labels) for {@code /predict}, an embedding model for
 * {@code /similarity}; each answer equal to the engine's own logits run in this JVM, and each route
 * refused on a model of another kind, naming it.
 */
class ScoringRoutesTest {
  static final List<String> LABELS = List.of("negative", "neutral", "positive");
  static final String QUERY = "the dog is good";
  static final List<String> DOCS =
      List.of("hello world", "the dog sat on the mat", "a cat is small", "the good dog is fine");

  @TempDir static Path tmp;
  static final List<BertServer> servers = new ArrayList<>();
  static final List<BertEncoder> engines = new ArrayList<>();
  static String reranker;
  static String classifier;
  static String embedder;
  static BertEncoder rerankEngine;
  static BertEncoder classifyEngine;
  static BertEncoder embedEngine;

  @BeforeAll
  static void start() throws Exception {
    Path cross = Classifiers.tiny(tmp.resolve("tiny-cross-encoder"), List.of("LABEL_0"), 5);
    Path classes = Classifiers.tiny(tmp.resolve("tiny-classifier"), LABELS, 6);
    reranker = serve(cross);
    classifier = serve(classes);
    embedder = serve(TestNodes.tinyModel());
    rerankEngine = engine(cross);
    classifyEngine = engine(classes);
    embedEngine = engine(TestNodes.tinyModel());
  }

  static String serve(Path model) throws Exception {
    BertServer server =
        TestNodes.serving(Map.of("bert-serving.engine.model-dir", model.toString()));
    servers.add(server);
    TestNodes.awaitWorkers(server, 1);
    return "http://127.0.0.1:" + server.httpPort();
  }

  static BertEncoder engine(Path model) throws Exception {
    BertEncoder engine = BertEncoder.load(EngineSettings.builder().modelDir(model).build());
    engines.add(engine);
    return engine;
  }

  @AfterAll
  static void stop() {
    servers.forEach(BertServer::close);
    engines.forEach(BertEncoder::close);
  }

  /** The cross-encoder's logit of each document against the query, in document order. */
  static float[] logits(List<String> docs) {
    return Classifiers.logits(rerankEngine, QUERY, docs);
  }

  static String body(Object value) throws Exception {
    return Wire.JSON.writeValueAsString(value);
  }

  @Test
  void teiRerankRanksByTheSigmoidOfTheLogitHighestFirst() throws Exception {
    float[] logits = logits(DOCS);
    HttpResponse<String> r =
        Wire.post(
            reranker + "/rerank", body(Map.of("query", QUERY, "texts", DOCS, "return_text", true)));
    assertEquals(200, r.statusCode(), r.body());
    JsonNode ranks = Wire.json(r);
    assertEquals(DOCS.size(), ranks.size());
    double previous = Double.MAX_VALUE;
    for (JsonNode rank : ranks) {
      int index = rank.get("index").asInt();
      assertEquals(DOCS.get(index), rank.get("text").asText());
      assertEquals(Scores.sigmoid(logits[index]), rank.get("score").floatValue(), 1e-6);
      assertTrue(rank.get("score").asDouble() <= previous, "highest first: " + ranks);
      previous = rank.get("score").asDouble();
    }
    JsonNode raw =
        Wire.json(
            Wire.post(
                reranker + "/rerank",
                body(Map.of("query", QUERY, "texts", DOCS, "raw_scores", true))));
    for (JsonNode rank : raw) {
      assertFalse(rank.has("text"), "text only when asked");
      assertEquals(logits[rank.get("index").asInt()], rank.get("score").floatValue(), 1e-5);
    }
    // a document holding " ||| " is one side of the pair, not a pair of its own
    String odd = "hello ||| world";
    JsonNode one =
        Wire.json(
            Wire.post(
                reranker + "/rerank",
                body(Map.of("query", QUERY, "texts", List.of(odd), "raw_scores", true))));
    assertEquals(logits(List.of(odd))[0], one.get(0).get("score").floatValue(), 1e-5);
    HttpResponse<String> empty =
        Wire.post(reranker + "/rerank", body(Map.of("query", QUERY, "texts", List.of())));
    assertEquals(400, empty.statusCode(), empty.body());
    assertEquals("Empty", Wire.json(empty).get("error_type").asText());
  }

  /**
   * As TEI: an empty document (a chunk left empty by extraction) is scored, {@code [CLS] q [SEP]
   * [SEP]}, and ranked with the others; a pair is empty only when the query is too; no texts is
   * TEI's 400 before the model's kind is looked at (a classifier's node answers it the same).
   */
  @Test
  void rerankScoresAnEmptyDocumentAndRefusesOnlyAnEmptyPair() throws Exception {
    List<String> docs = List.of("the good dog is fine", "", "  ", "a cat is small");
    float[] logits = logits(docs);
    JsonNode ranks =
        Wire.json(
            Wire.post(
                reranker + "/rerank",
                body(Map.of("query", QUERY, "texts", docs, "raw_scores", true))));
    assertEquals(docs.size(), ranks.size(), ranks.toString());
    for (JsonNode rank : ranks) {
      assertEquals(logits[rank.get("index").asInt()], rank.get("score").floatValue(), 1e-5);
    }
    assertEquals(logits[1], logits[2], 1e-6, "blank and empty are the same pair");
    JsonNode cohere =
        Wire.json(
                Wire.post(reranker + "/v1/rerank", body(Map.of("query", QUERY, "documents", docs))))
            .get("results");
    assertEquals(docs.size(), cohere.size(), cohere.toString());
    for (JsonNode result : cohere) {
      int index = result.get("index").asInt();
      assertEquals(Scores.sigmoid(logits[index]), result.get("relevance_score").floatValue(), 1e-6);
    }
    HttpResponse<String> bothEmpty =
        Wire.post(reranker + "/rerank", body(Map.of("query", "", "texts", List.of("a cat", ""))));
    assertEquals(400, bothEmpty.statusCode(), bothEmpty.body());
    assertEquals("Empty", Wire.json(bothEmpty).get("error_type").asText());
    HttpResponse<String> none =
        Wire.post(classifier + "/rerank", body(Map.of("query", QUERY, "texts", List.of())));
    assertEquals(400, none.statusCode(), none.body());
    assertEquals("Empty", Wire.json(none).get("error_type").asText());
    HttpResponse<String> kind =
        Wire.post(classifier + "/rerank", body(Map.of("query", QUERY, "texts", List.of(""))));
    assertEquals(424, kind.statusCode(), kind.body());
  }

  @Test
  void cohereAndJinaRerankWithTopNAndDocuments() throws Exception {
    float[] logits = logits(DOCS);
    List<Object> documents = new ArrayList<>(DOCS);
    documents.set(1, Map.of("text", DOCS.get(1))); // Jina's and Cohere's structured form
    HttpResponse<String> r =
        Wire.post(
            reranker + "/v1/rerank",
            body(
                Map.of(
                    "model",
                    "tiny-cross-encoder", // the model by name (another: 404)
                    "query",
                    QUERY,
                    "documents",
                    documents,
                    "top_n",
                    2,
                    "return_documents",
                    true)));
    assertEquals(200, r.statusCode(), r.body());
    JsonNode answer = Wire.json(r);
    assertEquals("tiny-cross-encoder", answer.get("model").asText());
    assertTrue(answer.get("usage").get("total_tokens").asInt() > 0, answer.toString());
    JsonNode results = answer.get("results");
    assertEquals(2, results.size(), "top_n");
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      best = logits[i] > logits[best] ? i : best;
    }
    assertEquals(best, results.get(0).get("index").asInt(), answer.toString());
    for (JsonNode result : results) {
      int index = result.get("index").asInt();
      assertEquals(Scores.sigmoid(logits[index]), result.get("relevance_score").floatValue(), 1e-6);
      assertEquals(DOCS.get(index), result.get("document").get("text").asText());
    }
    HttpResponse<String> bad =
        Wire.post(reranker + "/v1/rerank", body(Map.of("query", QUERY, "documents", List.of(3))));
    assertEquals(400, bad.statusCode(), bad.body());
    assertEquals("documents", Wire.json(bad).get("error").get("param").asText());
  }

  /** LangChain4j's Cohere scoring model with the node as its base URL. */
  @Test
  void langChain4jCohereScoringModel() {
    float[] logits = logits(DOCS);
    CohereScoringModel model =
        CohereScoringModel.builder()
            .baseUrl(reranker + "/v1/")
            .apiKey("unused")
            .modelName("tiny-cross-encoder") // Cohere's clients send one: the served model's
            .build();
    List<Double> scores =
        model.scoreAll(DOCS.stream().map(TextSegment::from).toList(), QUERY).content();
    assertEquals(DOCS.size(), scores.size());
    for (int i = 0; i < DOCS.size(); i++) {
      assertEquals(Scores.sigmoid(logits[i]), scores.get(i), 1e-6, "document " + i);
    }
  }

  @Test
  void predictGivesEachLabelItsSoftmaxHighestFirst() throws Exception {
    List<Object> inputs = List.of("the dog is good", Featurizer.pair("hello world", "a cat"));
    float[][] logits = classifyEngine.encode(inputs, false).matrix();
    // one text: a flat list
    JsonNode single =
        Wire.json(Wire.post(classifier + "/predict", body(Map.of("inputs", "the dog is good"))));
    assertLabels(Scores.softmax(logits[0]), single);
    // a pair [a, b] is one input; a list of them a batch: a list of lists
    JsonNode pair =
        Wire.json(
            Wire.post(
                classifier + "/predict", body(Map.of("inputs", List.of("hello world", "a cat")))));
    assertLabels(Scores.softmax(logits[1]), pair);
    JsonNode batch =
        Wire.json(
            Wire.post(
                classifier + "/predict",
                body(
                    Map.of(
                        "inputs",
                        List.of(List.of("the dog is good"), List.of("hello world", "a cat")),
                        "raw_scores",
                        true))));
    assertEquals(2, batch.size(), batch.toString());
    assertLabels(logits[0], batch.get(0));
    assertLabels(logits[1], batch.get(1));
    // a list whose first element is a text is one input, as TEI reads it: a flat answer
    JsonNode listed =
        Wire.json(
            Wire.post(classifier + "/predict", body(Map.of("inputs", List.of("the dog is good")))));
    assertLabels(Scores.softmax(logits[0]), listed);
    HttpResponse<String> three =
        Wire.post(classifier + "/predict", body(Map.of("inputs", List.of("a", "b", "c"))));
    assertEquals(422, three.statusCode(), three.body());
    assertTrue(three.body().contains("a batch is a list of them"), three.body());
  }

  /**
   * An empty text, or a pair empty on both sides, is TEI's 400 {@code Empty}, not a 413; a pair
   * with one empty side, or a text of spaces, is classified, as TEI and Hugging Face's tokenizers
   * take them.
   */
  @Test
  void predictRefusesAnEmptyTextOrPairAsEmpty() throws Exception {
    for (Object inputs :
        List.of(
            "",
            List.of("", ""),
            List.of(List.of("the dog"), List.of("", "")),
            List.of(List.of("the dog"), List.of("")),
            List.of())) {
      HttpResponse<String> r = Wire.post(classifier + "/predict", body(Map.of("inputs", inputs)));
      assertEquals(400, r.statusCode(), inputs + ": " + r.body());
      assertEquals("Empty", Wire.json(r).get("error_type").asText(), r.body());
    }
    float[][] logits = classifyEngine.encode(List.of(Featurizer.pair("", "a cat")), false).matrix();
    HttpResponse<String> oneSide =
        Wire.post(
            classifier + "/predict",
            body(Map.of("inputs", List.of(List.of("", "a cat")), "raw_scores", true)));
    assertEquals(200, oneSide.statusCode(), oneSide.body());
    assertLabels(logits[0], Wire.json(oneSide).get(0));
    HttpResponse<String> spaces = Wire.post(classifier + "/predict", body(Map.of("inputs", "  ")));
    assertEquals(200, spaces.statusCode(), spaces.body());
  }

  static void assertLabels(float[] expected, JsonNode labels) {
    assertEquals(LABELS.size(), labels.size(), labels.toString());
    double previous = Double.MAX_VALUE;
    for (JsonNode label : labels) {
      int id = LABELS.indexOf(label.get("label").asText());
      assertTrue(id >= 0, labels.toString());
      assertEquals(expected[id], label.get("score").floatValue(), 1e-5, labels.toString());
      assertTrue(label.get("score").asDouble() <= previous, "highest first: " + labels);
      previous = label.get("score").asDouble();
    }
  }

  /**
   * {@code POST /} and SageMaker's {@code /invocations} answer as TEI does for its model's type: a
   * reranker's node reranks, a classifier's predicts, an embedding model's embeds; the same answer
   * as the named route.
   */
  @Test
  void rootAndInvocationsAnswerByTheModelsKind() throws Exception {
    String rerank = body(Map.of("query", QUERY, "texts", DOCS, "raw_scores", true));
    String predict = body(Map.of("inputs", "the dog is good", "raw_scores", true));
    String embed = body(Map.of("inputs", List.of("hello world", "the dog")));
    for (String path : List.of("/", "/invocations")) {
      assertEquals(
          Wire.json(Wire.post(reranker + "/rerank", rerank)),
          Wire.json(Wire.post(reranker + path, rerank)),
          path);
      assertEquals(
          Wire.json(Wire.post(classifier + "/predict", predict)),
          Wire.json(Wire.post(classifier + path, predict)),
          path);
      HttpResponse<String> embedded = Wire.post(embedder + path, embed);
      assertEquals(200, embedded.statusCode(), embedded.body());
      assertEquals(Wire.json(Wire.post(embedder + "/embed", embed)), Wire.json(embedded), path);
      HttpResponse<String> wrong = Wire.post(reranker + path, embed);
      assertEquals(422, wrong.statusCode(), wrong.body());
      assertTrue(Wire.json(wrong).has("error_type"), "TEI's error shape: " + wrong.body());
    }
  }

  @Test
  void similarityIsTheCosineOfTheVectors() throws Exception {
    List<String> sentences = List.of("hello world", "the cat sat on the mat");
    JsonNode scores =
        Wire.json(
            Wire.post(
                embedder + "/similarity",
                body(
                    Map.of(
                        "inputs",
                        Map.of("source_sentence", "hello world", "sentences", sentences)))));
    float[][] v =
        embedEngine.encode(List.of("hello world", "hello world", "the cat sat on the mat"));
    assertEquals(2, scores.size());
    assertEquals(1.0, scores.get(0).asDouble(), 1e-5);
    assertEquals(Kinds.cosine(v[0], v[2]), scores.get(1).floatValue(), 1e-5);
  }

  @Test
  void theModelsListSaysEachModelsKindAsItsWorkersDescribeIt() throws Exception {
    for (Map.Entry<String, String> node :
        Map.of(reranker, "rerank", classifier, "classify", embedder, "embedding").entrySet()) {
      JsonNode listed = Wire.json(Wire.get(node.getKey() + "/v1/models")).get("data").get(0);
      assertEquals(node.getValue(), listed.get("kind").asText(), listed.toString());
      JsonNode status = Wire.json(Wire.get(node.getKey() + "/status/server")).get("models").get(0);
      assertEquals(node.getValue(), status.get("kind").asText(), status.toString());
    }
  }

  @Test
  void aRouteOnAModelOfAnotherKindNamesTheKindAndItsRoutes() throws Exception {
    HttpResponse<String> rerank =
        Wire.post(classifier + "/rerank", body(Map.of("query", QUERY, "texts", DOCS)));
    assertEquals(424, rerank.statusCode(), rerank.body());
    JsonNode tei = Wire.json(rerank);
    assertEquals("Backend", tei.get("error_type").asText());
    assertTrue(
        tei.get("error").asText().contains("is of kind classify, which serves POST /predict"),
        rerank.body());
    HttpResponse<String> similarity =
        Wire.post(
            reranker + "/similarity",
            body(Map.of("inputs", Map.of("source_sentence", "a", "sentences", List.of("b")))));
    assertEquals(424, similarity.statusCode(), similarity.body());
    assertTrue(Wire.json(similarity).get("error").asText().contains("is of kind rerank"));
    HttpResponse<String> predict = Wire.post(embedder + "/predict", body(Map.of("inputs", "a")));
    assertEquals(424, predict.statusCode(), predict.body());
    assertTrue(Wire.json(predict).get("error").asText().contains("is of kind embedding"));
    HttpResponse<String> cohere =
        Wire.post(embedder + "/v1/rerank", body(Map.of("query", "a", "documents", List.of("b"))));
    assertEquals(400, cohere.statusCode(), cohere.body());
    JsonNode openAi = Wire.json(cohere).get("error");
    assertTrue(
        openAi.get("message").asText().contains("/v1/rerank needs a model of kind rerank"),
        cohere.body());
  }

  /**
   * Hugging Face's JS client ({@code @huggingface/inference} 4.x, installed by
   * ops/bert-serving-test-tools into src/test/js/hf-client) with the nodes as endpoint URLs: its
   * {@code sentenceSimilarity} reads {@code /similarity}, its {@code textClassification} reads
   * {@code /predict}. Skipped, saying so, without node or the installed client.
   */
  @Test
  void huggingFaceJsClient() throws Exception {
    Path dir = Path.of("src/test/js/hf-client").toAbsolutePath();
    boolean installed =
        java.nio.file.Files.isDirectory(dir.resolve("node_modules/@huggingface/inference"));
    org.junit.jupiter.api.Assumptions.assumeTrue(
        installed && hasNode(),
        "skipped: needs node and @huggingface/inference in "
            + dir
            + " (ops/bert-serving-test-tools installs it)");
    TestNodes.Child run =
        TestNodes.run(
            new ProcessBuilder("node", "check.mjs", embedder, classifier).directory(dir.toFile()),
            60);
    assertEquals(0, run.exit(), run.output());
    String output = run.output().strip();
    JsonNode answer = Wire.JSON.readTree(output.substring(output.lastIndexOf("\n") + 1));
    float[][] v = embedEngine.encode(List.of("hello world", "the cat sat on the mat"));
    JsonNode similarity = answer.get("similarity");
    assertEquals(2, similarity.size(), output);
    assertEquals(1.0, similarity.get(0).asDouble(), 1e-5);
    assertEquals(Kinds.cosine(v[0], v[1]), similarity.get(1).floatValue(), 1e-5);
    float[] logits = classifyEngine.encode(List.of("the dog is good"), false).matrix()[0];
    assertLabels(Scores.softmax(logits), answer.get("classification"));
  }

  private static boolean hasNode() {
    try {
      return TestNodes.run(new ProcessBuilder("node", "--version"), 10).exit() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  /** The SDK's rerank and classify over HTTP; a model of the other kind is the server's error. */
  @Test
  void sdkRerankAndClassify() {
    float[] logits = logits(DOCS);
    try (org.bertserving.client.BertClient rerank =
            org.bertserving.client.BertClient.builder()
                .http(java.net.URI.create(reranker))
                .build();
        org.bertserving.client.BertClient classify =
            org.bertserving.client.BertClient.builder()
                .http(java.net.URI.create(classifier))
                .build()) {
      List<org.bertserving.client.RerankResult> top = rerank.rerank(QUERY, DOCS, 3);
      assertEquals(3, top.size());
      for (int i = 0; i < top.size(); i++) {
        org.bertserving.client.RerankResult r = top.get(i);
        assertEquals(Scores.sigmoid(logits[r.index()]), r.relevanceScore(), 1e-6);
        assertTrue(i == 0 || r.relevanceScore() <= top.get(i - 1).relevanceScore());
      }
      List<String> texts = List.of("the dog is good", "hello world");
      float[][] classLogits = classifyEngine.encode(texts);
      List<List<org.bertserving.client.LabelScore>> labels = classify.classify(texts);
      assertEquals(2, labels.size());
      for (int t = 0; t < texts.size(); t++) {
        float[] p = Scores.softmax(classLogits[t]);
        assertEquals(LABELS.size(), labels.get(t).size());
        for (org.bertserving.client.LabelScore l : labels.get(t)) {
          assertEquals(p[LABELS.indexOf(l.label())], l.score(), 1e-6, l.toString());
        }
      }
      org.bertserving.client.BertServerException wrong =
          org.junit.jupiter.api.Assertions.assertThrows(
              org.bertserving.client.BertServerException.class,
              () -> classify.rerank(QUERY, DOCS, null));
      assertEquals(400, wrong.status(), wrong.getMessage());
    }
  }
}

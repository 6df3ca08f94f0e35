package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.CallOptions;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.PoolingStrategy;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * text-embeddings-inference's routes as its clients call them: huggingface_hub's {@code
 * InferenceClient.feature_extraction} (and so Haystack's and LangChain's TEI embedders) posting to
 * the root, {@code /embed}, {@code /embed_all}, {@code /tokenize}, {@code /decode}, {@code /info}.
 * The pooling node is a frontend without the model and a worker node: tokenizing goes through the
 * cluster.
 */
class TeiContractTest {
  @TempDir static Path tmp;
  static BertServer worker;
  static BertServer frontend;
  static BertServer tokenLevel;
  static String base;
  static String tokensBase;
  static BertEncoder direct;
  static BertEncoder directTokens;

  @BeforeAll
  static void start() throws Exception {
    // the tiny model with sentence-transformers' named prompts
    Path model = Files.createDirectories(tmp.resolve("prompted"));
    try (Stream<Path> files = Files.list(TestNodes.tinyModel())) {
      for (Path f : files.toList()) {
        Files.copy(f, model.resolve(f.getFileName()));
      }
    }
    Files.writeString(
        model.resolve("config_sentence_transformers.json"),
        "{\"prompts\": {\"query\": \"the \", \"passage\": \"\"}}");
    Map<String, Object> prompted = Map.of("bert-serving.engine.model-dir", model.toString());
    frontend = TestNodes.start(TestNodes.node(List.of("frontend"), 0, true, prompted));
    worker =
        BertServer.start(
            TestNodes.node(List.of("worker"), frontend.clusterPort(), false, prompted));
    tokenLevel =
        BertServer.start(
            TestNodes.node(
                List.of("frontend", "worker"),
                0,
                true,
                Map.of("bert-serving.engine.pooling-strategy", "NONE")));
    frontend.started().get(30, TimeUnit.SECONDS);
    tokenLevel.started().get(30, TimeUnit.SECONDS);
    TestNodes.awaitWorkers(frontend, 1);
    TestNodes.awaitWorkers(tokenLevel, 1);
    base = "http://127.0.0.1:" + frontend.httpPort();
    tokensBase = "http://127.0.0.1:" + tokenLevel.httpPort();
    direct = BertEncoder.load(EngineSettings.builder().modelDir(model).maxSeqLen(16).build());
    directTokens =
        BertEncoder.load(
            EngineSettings.builder()
                .modelDir(TestNodes.tinyModel())
                .maxSeqLen(16)
                .poolingStrategy(PoolingStrategy.NONE)
                .build());
  }

  @AfterAll
  static void stop() {
    worker.close();
    frontend.close();
    tokenLevel.close();
    direct.close();
    directTokens.close();
  }

  static void assertVector(float[] expected, JsonNode actual) {
    assertEquals(expected.length, actual.size());
    for (int d = 0; d < expected.length; d++) {
      assertEquals(expected[d], actual.get(d).floatValue(), 1e-5f, "component " + d);
    }
  }

  static float[] encode(String text, CallOptions options) {
    return direct.encode(List.of(text), false, options).matrix()[0];
  }

  @Test
  void huggingFaceHubPostsToTheRoot() throws Exception {
    // InferenceClient(model="http://host:port").feature_extraction(text, normalize=False,
    // truncate=True, truncation_direction="Left"): the parameters beside "inputs", None left out
    HttpResponse<String> r =
        Wire.post(
            base + "/",
            "{\"inputs\": \"hello world how are you the dog sat on the mat the cat is small\", "
                + "\"normalize\": false, \"truncate\": true, \"truncation_direction\": \"Left\"}",
            "User-Agent",
            "unknown/None; hf_hub/0.34.3; python/3.11.9",
            "Accept",
            "*/*",
            "Accept-Encoding",
            "gzip, deflate");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode rows = Wire.json(r);
    assertEquals(1, rows.size(), "a list of one vector for one string");
    assertVector(
        encode(
            "hello world how are you the dog sat on the mat the cat is small",
            new CallOptions(null, false, null, true, CallOptions.Direction.LEFT, null)),
        rows.get(0));
    // Haystack's older embedders post a list
    HttpResponse<String> list =
        Wire.post(
            base + "/",
            "{\"inputs\": [\"hello world\", \"a\"], "
                + "\"truncate\": false, \"normalize\": true}");
    assertEquals(2, Wire.json(list).size(), list.body());
  }

  @Test
  void embedNormalizesByDefaultAndTakesDimensionsAndNamedPrompts() throws Exception {
    JsonNode rows =
        Wire.json(Wire.post(base + "/embed", "{\"inputs\": [\"hello world\", \"how are you?\"]}"));
    assertVector(encode("hello world", new CallOptions(null, true, null)), rows.get(0));
    assertVector(encode("how are you?", new CallOptions(null, true, null)), rows.get(1));
    JsonNode eight =
        Wire.json(Wire.post(base + "/embed", "{\"inputs\": \"hello world\", \"dimensions\": 8}"));
    assertVector(encode("hello world", new CallOptions(null, true, 8)), eight.get(0));
    JsonNode query =
        Wire.json(Wire.post(base + "/embed", "{\"inputs\": \"dog\", \"prompt_name\": \"query\"}"));
    assertVector(encode("the dog", new CallOptions(null, true, null)), query.get(0));
    HttpResponse<String> unknown =
        Wire.post(base + "/embed", "{\"inputs\": \"dog\", \"prompt_name\": \"doc\"}");
    JsonNode error = ApiErrorsTest.assertError(Dialect.TEI, unknown, 413, "Validation");
    assertEquals(
        "Input validation error: prompt_name 'doc' is not one of this model's prompts "
            + "[passage, query]",
        error.get("error").asText());
  }

  @Test
  void longInputsAreRefusedUnlessTruncateAsTeiDoes() throws Exception {
    String longText = "the dog sat on the mat ".repeat(4);
    HttpResponse<String> refused =
        Wire.post(base + "/embed", "{\"inputs\": [\"a\", \"" + longText + "\"]}");
    JsonNode error = ApiErrorsTest.assertError(Dialect.TEI, refused, 413, "Validation");
    assertTrue(
        error
            .get("error")
            .asText()
            .startsWith(
                "Input validation error: input 1: `inputs` must have less than 16 tokens. Given: 26"),
        refused.body());
    JsonNode cut =
        Wire.json(
            Wire.post(base + "/embed", "{\"inputs\": \"" + longText + "\", \"truncate\": true}"));
    assertVector(encode(longText, new CallOptions(null, true, null)), cut.get(0));
    ApiErrorsTest.assertError(
        Dialect.TEI,
        Wire.post(base + "/embed", "{\"inputs\": \"a\", \"truncation_direction\": \"Middle\"}"),
        422,
        "Validation");
  }

  @Test
  void teisOwnChecksAndStatuses() throws Exception {
    ApiErrorsTest.assertError(
        Dialect.TEI, Wire.post(base + "/embed", "{\"inputs\": []}"), 400, "Empty");
    ApiErrorsTest.assertError(
        Dialect.TEI, Wire.post(base + "/embed", "{\"inputs\": [\"a\", \"\"]}"), 400, "Empty");
    String batch = Wire.JSON.writeValueAsString(Map.of("inputs", Collections.nCopies(33, "a")));
    JsonNode tooMany =
        ApiErrorsTest.assertError(
            Dialect.TEI, Wire.post(base + "/embed", batch), 413, "Validation");
    assertTrue(
        tooMany.get("error").asText().contains("batch size 33 > maximum allowed batch size 32"));
    JsonNode ids =
        ApiErrorsTest.assertError(
            Dialect.TEI,
            Wire.post(base + "/embed", "{\"inputs\": [[101, 7592]]}"),
            422,
            "Validation");
    assertTrue(ids.get("error").asText().contains("send the texts as strings"), ids.toString());
    ApiErrorsTest.assertError(
        Dialect.TEI,
        Wire.post(base + "/embed", "{\"inputs\": \"a\", \"normalize\": \"yes\"}"),
        422,
        "Validation");
    ApiErrorsTest.assertError(
        Dialect.TEI, Wire.post(base + "/embed_all", "{\"inputs\": \"a\"}"), 424, "Backend");
    ApiErrorsTest.assertError(
        Dialect.TEI, Wire.post(tokensBase + "/embed", "{\"inputs\": \"a\"}"), 424, "Backend");
  }

  /** bert-as-service's {@code /encode} of token vectors as {@code .npy}: {@code [B, T, D]}. */
  @Test
  void encodeAnswersTokenVectorsAsNpy() throws Exception {
    String body = "{\"texts\": [\"hello world\", \"the dog sat on the mat\"]}";
    java.net.http.HttpResponse<byte[]> npy =
        Wire.postForBytes(tokensBase + "/encode", body, "Accept", "application/x-npy");
    assertEquals(200, npy.statusCode());
    Wire.NpyFile file = Wire.NpyFile.read(npy.body());
    JsonNode json = Wire.json(Wire.post(tokensBase + "/encode", body)).get("result");
    int t = json.get(0).size();
    int d = json.get(0).get(0).size();
    assertEquals(List.of(2, t, d), HttpApiTest.toList(file.shape()));
    for (int r = 0; r < 2; r++) {
      for (int p = 0; p < t; p++) {
        for (int k = 0; k < d; k++) {
          assertEquals(
              json.get(r).get(p).get(k).floatValue(),
              file.data()[(r * t + p) * d + k],
              "row " + r + ", position " + p + " (zero past the text's own tokens)");
        }
      }
    }
    NumpyCheck.load(npy.body(), "(2, " + t + ", " + d + ")");
  }

  @Test
  void embedAllGivesEachInputsOwnTokenVectors() throws Exception {
    List<String> texts = List.of("hello world", "the dog sat on the mat");
    JsonNode all =
        Wire.json(
            Wire.post(
                tokensBase + "/embed_all",
                "{\"inputs\": [\"hello world\", " + "\"the dog sat on the mat\"]}"));
    var expected = directTokens.encode(texts, false, new CallOptions(null, false, null));
    for (int i = 0; i < texts.size(); i++) {
      int tokens = expected.tokens().get(i).size();
      assertEquals(
          tokens, all.get(i).size(), "one vector per token, [CLS] and [SEP] included, no padding");
      float[] row = expected.rows().get(i);
      for (int t = 0; t < tokens; t++) {
        for (int d = 0; d < expected.dim(); d++) {
          assertEquals(row[t * expected.dim() + d], all.get(i).get(t).get(d).floatValue(), 1e-5f);
        }
      }
    }
  }

  @Test
  void tokenizeAndDecodeThroughAFrontendWithoutTheModel() throws Exception {
    JsonNode tokens = Wire.json(Wire.post(base + "/tokenize", "{\"inputs\": \"The DOGs sat\"}"));
    assertEquals(1, tokens.size());
    JsonNode first = tokens.get(0);
    assertEquals(
        List.of("[CLS]", "The", "DOG", "s", "sat", "[SEP]"), first.findValuesAsText("text"));
    assertTrue(first.get(0).get("special").asBoolean());
    assertTrue(first.get(0).get("start").isNull());
    assertEquals(4, first.get(2).get("start").asInt());
    assertEquals(7, first.get(2).get("stop").asInt());
    assertFalse(first.get(2).get("special").asBoolean());
    JsonNode plain =
        Wire.json(
            Wire.post(
                base + "/tokenize",
                "{\"inputs\": [\"dog\", \"cat\"], \"add_special_tokens\": false, \"prompt_name\": \"query\"}"));
    assertEquals(List.of("the", "dog"), plain.get(0).findValuesAsText("text"));
    assertEquals(List.of("the", "cat"), plain.get(1).findValuesAsText("text"));
    List<Integer> ids = first.findValues("id").stream().map(JsonNode::asInt).toList();
    JsonNode decoded = Wire.json(Wire.post(base + "/decode", "{\"ids\": " + ids + "}"));
    assertEquals("the dogs sat", decoded.get(0).asText());
    JsonNode both =
        Wire.json(
            Wire.post(
                base + "/decode",
                "{\"ids\": [" + ids + ", [5]], " + "\"skip_special_tokens\": false}"));
    assertEquals("[CLS] the dogs sat [SEP]", both.get(0).asText());
    assertEquals("the", both.get(1).asText());
    ApiErrorsTest.assertError(
        Dialect.TEI, Wire.post(base + "/decode", "{\"ids\": []}"), 400, "Empty");
    ApiErrorsTest.assertError(
        Dialect.TEI, Wire.post(base + "/decode", "{\"ids\": [-1]}"), 422, "Validation");
    for (String mix : List.of("[[1], 2]", "[1, [2]]")) {
      JsonNode mixed =
          ApiErrorsTest.assertError(
              Dialect.TEI,
              Wire.post(base + "/decode", "{\"ids\": " + mix + "}"),
              422,
              "Validation");
      assertTrue(
          mixed.get("error").asText().contains("not a mix of lists and numbers"), mixed.toString());
    }
    ApiErrorsTest.assertError(
        Dialect.TEI,
        Wire.post(base + "/tokenize", "{\"inputs\": \"a\", " + "\"prompt_name\": \"doc\"}"),
        413,
        "Validation");
  }

  @Test
  void infoDescribesTheServedModelInTeisFields() throws Exception {
    JsonNode info = Wire.json(Wire.get(base + "/info"));
    assertEquals("prompted", info.get("model_id").asText());
    assertEquals("float32", info.get("model_dtype").asText());
    assertEquals("mean", info.get("model_type").get("embedding").get("pooling").asText());
    assertEquals(16, info.get("max_input_length").asInt());
    assertEquals(32, info.get("max_client_batch_size").asInt());
    assertFalse(info.get("auto_truncate").asBoolean());
    for (String field :
        List.of(
            "model_sha",
            "served_model_name",
            "max_concurrent_requests",
            "max_batch_tokens",
            "max_batch_requests",
            "tokenization_workers",
            "version",
            "sha",
            "docker_label")) {
      assertTrue(info.has(field), field);
    }
  }
}

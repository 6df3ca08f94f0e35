package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineSettings;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One cluster, two models: a frontend node (no model of its own in use) and two worker nodes, one
 * serving the tiny test model (named {@code model} after its folder, 32 wide), one the medium one
 * (named {@code m}, 128 wide), each node its own ActorSystem on loopback, every message serialized.
 * Each model's requests are answered by its own workers, an unknown model is a 404 naming both, and
 * when the medium model's node stops, its requests get a 503 with Retry-After at once while the
 * tiny model serves on, until the node is back.
 */
class MultiModelClusterTest {
  static final String TINY = "model";
  static final String MEDIUM = "m";
  static final List<String> TEXTS = List.of("hello world", "the quick brown fox", "a");

  BertServer frontend;
  BertServer tinyNode;
  BertServer mediumNode;
  String base;
  BertEncoder tiny;
  BertEncoder medium;

  @BeforeEach
  void start() throws Exception {
    frontend = TestNodes.start(TestNodes.node(List.of("frontend"), 0, true, Map.of()));
    base = "http://127.0.0.1:" + frontend.httpPort();
    tinyNode =
        BertServer.start(
            TestNodes.node(List.of("worker"), frontend.clusterPort(), false, Map.of()));
    TestNodes.awaitWorkers(frontend, 1); // the tiny model joins first: the default model
    mediumNode = startMedium();
    TestNodes.awaitWorkers(frontend, 2);
    tiny = BertEncoder.load(settings(TestNodes.tinyModel()));
    medium = BertEncoder.load(settings(TestNodes.mediumModel()));
  }

  static EngineSettings settings(java.nio.file.Path folder) {
    return EngineSettings.builder().modelDir(folder).maxSeqLen(16).build();
  }

  BertServer startMedium() throws Exception {
    return BertServer.start(
        TestNodes.node(
            List.of("worker"),
            frontend.clusterPort(),
            false,
            Map.of("bert-serving.engine.model-dir", TestNodes.mediumModel().toString())));
  }

  @AfterEach
  void stop() {
    for (AutoCloseable c : new AutoCloseable[] {mediumNode, tinyNode, frontend, tiny, medium}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  HttpResponse<String> encode(String model) throws Exception {
    Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("texts", TEXTS);
    if (model != null) {
      body.put("model", model);
    }
    return Wire.post(base + "/encode", Wire.JSON.writeValueAsString(body));
  }

  /** The reply's vectors are {@code engine}'s, and it names {@code model}. */
  static void answeredBy(BertEncoder engine, String model, HttpResponse<String> r, String rows)
      throws Exception {
    assertEquals(200, r.statusCode(), r.body());
    JsonNode body = Wire.json(r);
    float[][] expected = engine.encode(TEXTS);
    if (rows.equals("data")) { // OpenAI's route: unit length, whatever the model's -normalize
      for (int i = 0; i < expected.length; i++) {
        expected[i] = org.bertserving.engine.Vectors.unit(expected[i]);
      }
    }
    JsonNode got = body.get(rows);
    assertEquals(TEXTS.size(), got.size());
    for (int i = 0; i < TEXTS.size(); i++) {
      JsonNode row = rows.equals("data") ? got.get(i).get("embedding") : got.get(i);
      assertEquals(expected[i].length, row.size(), "the width of model " + model);
      for (int d = 0; d < expected[i].length; d++) {
        assertEquals(expected[i][d], row.get(d).floatValue(), 1e-5, "row " + i + " dim " + d);
      }
    }
    assertEquals(model, body.get("model").asText(), "the reply names the model that answered");
  }

  List<String> served() throws Exception {
    List<String> ids = new ArrayList<>();
    Wire.json(Wire.get(base + "/v1/models"))
        .get("data")
        .forEach(m -> ids.add(m.get("id").asText()));
    return ids;
  }

  @Test
  void eachModelIsAnsweredByItsOwnWorkersAndAModelWhoseNodeStoppedIs503UntilItIsBack()
      throws Exception {
    assertEquals(32, tiny.encode(TEXTS)[0].length);
    assertEquals(128, medium.encode(TEXTS)[0].length);
    answeredBy(medium, MEDIUM, encode(MEDIUM), "result");
    answeredBy(tiny, TINY, encode(TINY), "result");
    answeredBy(tiny, TINY, encode(null), "result"); // none named: the first model joined
    answeredBy(
        medium,
        MEDIUM,
        Wire.post(
            base + "/v1/embeddings",
            Wire.JSON.writeValueAsString(Map.of("model", MEDIUM, "input", TEXTS))),
        "data");
    assertEquals(List.of(TINY, MEDIUM), served());
    JsonNode models = Wire.json(Wire.get(base + "/status/server")).get("models");
    assertEquals(2, models.size(), models.toString());
    String metrics = Wire.get(base + "/metrics").body();
    assertTrue(metrics.contains("bert_worker_rows_total{model=\"m\","), metrics);

    mediumNode.close();
    mediumNode = null;
    // a request sent before the frontend hears of the leave is queued for the model's workers
    // (as with one model: it completes if they come back within its timeout), so wait for that
    TestNodes.await(
        () -> frontend.metrics().workers.get() == 1, 30, "the frontend saw m's node go");
    HttpResponse<String> down = encode(MEDIUM);
    assertEquals(503, down.statusCode(), down.body());
    assertTrue(down.headers().firstValue("Retry-After").isPresent(), "with Retry-After");
    assertTrue(Wire.json(down).get("description").asText().contains("'m'"), down.body());
    answeredBy(tiny, TINY, encode(TINY), "result"); // the other model serves on
    assertEquals(List.of(TINY), served(), "only the models with a live worker");

    mediumNode = startMedium();
    TestNodes.await(() -> encode(MEDIUM).statusCode() == 200, 60, "model m served again");
    answeredBy(medium, MEDIUM, encode(MEDIUM), "result");
    assertEquals(List.of(TINY, MEDIUM), served());
  }

  @Test
  void anUnknownModelIsA404InEachFamilysShapeNamingTheModelsServed() throws Exception {
    HttpResponse<String> bert = encode("bert-large");
    assertEquals(404, bert.statusCode(), bert.body());
    JsonNode b = Wire.json(bert);
    assertEquals("model_not_found", b.get("type").asText());
    assertTrue(b.get("description").asText().contains("the models served: model, m"), bert.body());

    HttpResponse<String> openAi =
        Wire.post(
            base + "/v1/embeddings",
            "{\"model\": \"text-embedding-3-small\", \"input\": \"hello world\"}");
    assertEquals(404, openAi.statusCode(), openAi.body());
    JsonNode error = Wire.json(openAi).get("error");
    assertEquals("model_not_found", error.get("code").asText());
    assertEquals("invalid_request_error", error.get("type").asText());
    assertTrue(error.get("message").asText().contains("model, m"), openAi.body());

    // TEI's routes name no model: the default one answers them
    HttpResponse<String> tei = Wire.post(base + "/embed", "{\"inputs\": [\"hello world\"]}");
    assertEquals(200, tei.statusCode(), tei.body());
    assertEquals(32, Wire.json(tei).get(0).size());
  }
}

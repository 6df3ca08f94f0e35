package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineSettings;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One node (both roles, one ActorSystem on loopback) serving two models at once from its {@code
 * bert-serving.models} list: the tiny test model under its folder's name {@code model} (32 wide)
 * and the medium one renamed {@code med} (128 wide) with settings of its own (normalized, {@code
 * max_seq_len} 24), and the tiny one again as {@code tokens}, token-level. Each request is answered
 * by its own model's workers; one naming none by the first model listed.
 */
class MultiModelNodeTest {
  static final List<String> TEXTS = MultiModelClusterTest.TEXTS;

  BertServer node;
  BertEncoder tiny;
  BertEncoder med;

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {node, tiny, med}) {
      if (c != null) {
        c.close();
      }
    }
  }

  static Map<String, Object> models(List<Map<String, Object>> entries) {
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("bert-serving.engine.model-dir", ""); // the list names the models
    overrides.put("bert-serving.models", entries);
    return overrides;
  }

  @Test
  void oneNodeServesTwoModelsEachWithItsOwnWorkersAndSettings() throws Exception {
    node =
        TestNodes.start(
            TestNodes.node(
                List.of("frontend", "worker"),
                0,
                true,
                models(
                    List.of(
                        Map.of("model_dir", TestNodes.tinyModel().toString()),
                        Map.of(
                            "name",
                            "med",
                            "model_dir",
                            TestNodes.mediumModel().toString(),
                            "normalize",
                            "on",
                            "max_seq_len",
                            24),
                        // one folder twice: a second model under its own name
                        Map.of(
                            "name", "tokens",
                            "model_dir", TestNodes.tinyModel().toString(),
                            "pooling_strategy", "NONE",
                            "prompt", "big ")))));
    TestNodes.awaitWorkers(node, 3);
    String base = "http://127.0.0.1:" + node.httpPort();
    tiny = BertEncoder.load(MultiModelClusterTest.settings(TestNodes.tinyModel()));
    med =
        BertEncoder.load(
            EngineSettings.builder()
                .modelDir(TestNodes.mediumModel())
                .maxSeqLen(24)
                .normalize(true)
                .build());

    Set<String> listed = new TreeSet<>();
    Wire.json(Wire.get(base + "/v1/models"))
        .get("data")
        .forEach(m -> listed.add(m.get("id").asText()));
    assertEquals(Set.of("model", "med", "tokens"), listed);

    MultiModelClusterTest.answeredBy(med, "med", encode(base, "med"), "result");
    MultiModelClusterTest.answeredBy(tiny, "model", encode(base, "model"), "result");
    // none named: the first model listed, whichever of the node's workers described itself first
    MultiModelClusterTest.answeredBy(tiny, "model", encode(base, null), "result");

    // a token-level model beside sentence-level ones: its rows are [tokens][32]
    java.net.http.HttpResponse<String> tokens = encode(base, "tokens");
    assertEquals(200, tokens.statusCode(), tokens.body());
    JsonNode row = Wire.json(tokens).get("result").get(1);
    assertEquals(16, row.size(), "max_seq_len 16 token vectors: " + tokens.body());
    assertEquals(32, row.get(0).size(), tokens.body());

    // each worker describes its own model: its name and its max_seq_len
    Map<String, JsonNode> status = new HashMap<>();
    Wire.json(Wire.get(base + "/status/server"))
        .get("models")
        .forEach(m -> status.put(m.get("model").asText(), m));
    assertEquals(16, status.get("model").get("max_seq_len").asInt(), status.toString());
    assertEquals(24, status.get("med").get("max_seq_len").asInt(), status.toString());
    assertTrue(status.get("model").get("default").asBoolean(), status.toString());

    // /tokenize by the tokenizer of the model named (its own prompt), else the default model's
    assertEquals(List.of("[CLS]", "big", "hello", "[SEP]"), tokenize(base, "tokens"));
    assertEquals(List.of("[CLS]", "hello", "[SEP]"), tokenize(base, null));
    java.net.http.HttpResponse<String> unknown =
        Wire.post(base + "/tokenize", "{\"inputs\": \"hello\", \"model\": \"nope\"}");
    assertEquals(404, unknown.statusCode(), unknown.body());
    assertTrue(unknown.body().contains("the models served"), unknown.body());
  }

  static List<String> tokenize(String base, String model) throws Exception {
    Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("inputs", "hello");
    if (model != null) {
      body.put("model", model);
    }
    java.net.http.HttpResponse<String> r =
        Wire.post(base + "/tokenize", Wire.JSON.writeValueAsString(body));
    assertEquals(200, r.statusCode(), r.body());
    List<String> tokens = new java.util.ArrayList<>();
    Wire.json(r).get(0).forEach(t -> tokens.add(t.get("text").asText()));
    return tokens;
  }

  static java.net.http.HttpResponse<String> encode(String base, String model) throws Exception {
    Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("texts", TEXTS);
    if (model != null) {
      body.put("model", model);
    }
    return Wire.post(base + "/encode", Wire.JSON.writeValueAsString(body));
  }

  @Test
  void twoModelsOfOneNodeUnderOneNameStopItAtStartNamingTheName() {
    String folder = TestNodes.tinyModel().toString();
    String refusal =
        TestNodes.refusal(
            List.of("frontend", "worker"),
            0,
            models(List.of(Map.of("model_dir", folder), Map.of("model_dir", folder))));
    assertTrue(refusal.contains("both named 'model'"), refusal);
  }
}

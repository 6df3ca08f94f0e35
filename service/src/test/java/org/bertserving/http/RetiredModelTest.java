package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bertserving.engine.Classifiers;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reranker retired (its only worker node stopped) while another reranker serves: TEI's routes,
 * which name no model, go to the one that serves, where before they answered 503 for the retired
 * one until the frontend restarted. A frontend-only node and two worker nodes on loopback.
 */
class RetiredModelTest {
  @TempDir static Path tmp;

  static HttpResponse<String> post(String base, String path, Object body) throws Exception {
    return Wire.post(base + path, Wire.JSON.writeValueAsString(body));
  }

  /** The scores of {@code /rerank}, by document index. */
  static float[] scores(HttpResponse<String> rerank) throws Exception {
    assertEquals(200, rerank.statusCode(), rerank.body());
    JsonNode ranks = Wire.json(rerank);
    float[] scores = new float[ranks.size()];
    for (JsonNode rank : ranks) {
      scores[rank.get("index").asInt()] = rank.get("score").floatValue();
    }
    return scores;
  }

  @Test
  void kindRoutesGoToTheRerankerThatServesWhenTheFirstIsRetired() throws Exception {
    Path a = Classifiers.tiny(tmp.resolve("rr-a"), List.of("LABEL_0"), 5);
    Path b = Classifiers.tiny(tmp.resolve("rr-b"), List.of("LABEL_0"), 7);
    Map<String, Object> query = Map.of("query", "the dog is good", "texts", List.of("a", "a cat"));
    try (BertServer frontend =
        TestNodes.start(TestNodes.node(List.of("frontend"), 0, true, Map.of()))) {
      String base = "http://127.0.0.1:" + frontend.httpPort();
      BertServer first =
          BertServer.start(
              TestNodes.node(
                  List.of("worker"),
                  frontend.clusterPort(),
                  false,
                  Map.of("bert-serving.engine.model-dir", a.toString())));
      TestNodes.awaitWorkers(frontend, 1);
      try (BertServer second =
          BertServer.start(
              TestNodes.node(
                  List.of("worker"),
                  frontend.clusterPort(),
                  false,
                  Map.of("bert-serving.engine.model-dir", b.toString())))) {
        TestNodes.awaitWorkers(frontend, 2);
        float[] ofA = scores(post(base, "/rerank", query));
        HttpResponse<String> named =
            post(
                base,
                "/v1/rerank",
                Map.of(
                    "model", "rr-b", "query", query.get("query"), "documents", query.get("texts")));
        assertEquals(200, named.statusCode(), named.body());
        float[] ofB = new float[2];
        for (JsonNode result : Wire.json(named).get("results")) {
          ofB[result.get("index").asInt()] = result.get("relevance_score").floatValue();
        }
        assertNotEquals(ofA[0], ofB[0], "two rerankers that score apart");

        first.close(); // rr-a retired: its only worker leaves
        TestNodes.await(
            () -> frontend.metrics().workers.get() == 1,
            60,
            "the frontend sees rr-a's worker gone");
        TestNodes.await(
            () -> post(base, "/rerank", query).statusCode() == 200,
            30,
            "TEI's /rerank served by the reranker that serves");
        float[] now = scores(post(base, "/rerank", query));
        assertEquals(ofB[0], now[0], 1e-6);
        assertEquals(ofB[1], now[1], 1e-6);
        assertEquals(200, post(base, "/predict", Map.of("inputs", List.of("a", "b"))).statusCode());
        JsonNode models = Wire.json(Wire.get(base + "/v1/models")).get("data");
        assertEquals(1, models.size(), models.toString());
        assertEquals("rr-b", models.get(0).get("id").asText());
      }
    }
  }
}

package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/**
 * A worker-only node answers the orchestrator's probes and nothing else, and is ready only while it
 * is in a cluster with a reachable frontend (without one its work reaches nobody).
 */
class WorkerProbesTest {

  @Test
  void aWorkerNodeIsReadyOnlyWithAFrontendAndServesProbesOnly() throws Exception {
    int seed = TestNodes.freePort();
    int http = TestNodes.freePort();
    String base = "http://127.0.0.1:" + http;
    try (BertServer worker =
        BertServer.start(
            TestNodes.node(List.of("worker"), TestNodes.freePort(), seed, http, Map.of()))) {
      worker.started().get(30, TimeUnit.SECONDS);
      assertEquals(200, HttpApiTest.get(base, "/health").statusCode());
      var notYet = HttpApiTest.get(base, "/ready");
      assertEquals(503, notYet.statusCode(), "no cluster yet: " + notYet.body());
      assertTrue(
          HttpApiTest.json(notYet).get("description").asText().contains("not up in a cluster"),
          notYet.body());
      assertEquals(404, HttpApiTest.post(base, "/encode", "{\"texts\": [\"a\"]}").statusCode());
      try (BertServer frontend =
          BertServer.start(TestNodes.node(List.of("frontend"), seed, seed, 0, Map.of()))) {
        HttpApiTest.awaitReady(base);
        assertTrue(
            HttpApiTest.json(HttpApiTest.get(base, "/ready"))
                .get("reason")
                .asText()
                .contains("frontend"));
      }
      // the frontend left: the worker's work would reach nobody
      TestNodes.await(
          () -> HttpApiTest.get(base, "/ready").statusCode() == 503,
          30,
          "the worker is not ready without a frontend");
    }
  }
}

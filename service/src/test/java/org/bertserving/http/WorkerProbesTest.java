package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/** A worker-only node with HTTP on answers the orchestrator's probes and nothing else. */
class WorkerProbesTest {

  @Test
  void aWorkerNodeServesHealthAndReadinessOnly() throws Exception {
    int http = TestNodes.freePort();
    String base = "http://127.0.0.1:" + http;
    try (BertServer worker = BertServer.start(TestNodes.node(List.of("worker"), TestNodes.freePort(), 0,
        http, Map.of()))) {
      worker.http().get(30, TimeUnit.SECONDS);
      assertEquals(200, HttpApiTest.get(base, "/health").statusCode());
      HttpApiTest.awaitReady(base);
      assertEquals(404, HttpApiTest.post(base, "/encode", "{\"texts\": [\"a\"]}").statusCode());
    }
  }
}

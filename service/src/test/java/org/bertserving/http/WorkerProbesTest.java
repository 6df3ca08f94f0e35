package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
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
    // the worker's seed listens but never answers, so the worker stays out of any cluster
    try (ServerSocket silentSeed = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        BertServer worker =
            TestNodes.start(
                TestNodes.node(List.of("worker"), silentSeed.getLocalPort(), true, Map.of()))) {
      String base = "http://127.0.0.1:" + worker.httpPort();
      assertEquals(200, Wire.get(base + "/health").statusCode());
      var notYet = Wire.get(base + "/ready");
      assertEquals(503, notYet.statusCode(), "no cluster yet: " + notYet.body());
      assertTrue(
          Wire.json(notYet).get("description").asText().contains("not up in a cluster"),
          notYet.body());
      assertEquals(404, Wire.post(base + "/encode", "{\"texts\": [\"a\"]}").statusCode());
      try (BertServer frontend =
          TestNodes.start(TestNodes.node(List.of("frontend"), 0, false, Map.of()))) {
        // as an operator would with Akka Management's POST /cluster/members: join it by hand
        Cluster.get(worker.system()).manager().tell(Join.create(frontend.system().address()));
        Wire.awaitReady(base);
        assertTrue(
            Wire.json(Wire.get(base + "/ready")).get("reason").asText().contains("frontend"));
      }
      // the frontend left: the worker's work would reach nobody
      TestNodes.await(
          () -> Wire.get(base + "/ready").statusCode() == 503,
          30,
          "the worker is not ready without a frontend");
    }
  }
}

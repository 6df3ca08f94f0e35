package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.TinyBert;
import org.bertserving.http.Wire;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three ActorSystems in one JVM, as three nodes of one cluster on loopback: a frontend (with HTTP)
 * and two workers, every message serialized (serialize-messages on).
 */
class ClusterTest {

  BertServer frontend;
  BertServer workerA;
  BertServer workerB;
  String base;
  BertEncoder direct;

  @BeforeEach
  void startCluster() throws Exception {
    Map<String, Object> small = Map.of("bert-serving.workers.max-batch-size", 8);
    frontend = TestNodes.start(TestNodes.node(List.of("frontend"), 0, true, small));
    int seed = frontend.clusterPort();
    workerA = BertServer.start(TestNodes.node(List.of("worker"), seed, false, small));
    workerB = BertServer.start(TestNodes.node(List.of("worker"), seed, false, small));
    base = "http://127.0.0.1:" + frontend.httpPort();
    TestNodes.awaitWorkers(frontend, 2);
    direct = TestNodes.tinyEngine();
  }

  @AfterEach
  void stopCluster() {
    for (BertServer s : new BertServer[] {workerA, workerB, frontend}) {
      if (s != null) {
        s.close();
      }
    }
    direct.close();
  }

  CompletableFuture<JsonNode> encode(List<String> texts) throws Exception {
    return Wire.postAsync(base + "/encode", Wire.encodeBody(texts))
        .thenApply(
            r -> {
              try {
                assertEquals(200, r.statusCode(), r.body());
                return Wire.JSON.readTree(r.body());
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
  }

  void assertInOrder(List<String> texts, JsonNode body) {
    float[][] expected = direct.encode(texts);
    JsonNode result = body.get("result");
    assertEquals(texts.size(), result.size(), "no missing or extra rows");
    for (int i = 0; i < texts.size(); i++) {
      for (int d = 0; d < expected[i].length; d += 7) {
        assertEquals(
            expected[i][d], result.get(i).get(d).floatValue(), 1e-5, "row " + i + " dim " + d);
      }
    }
  }

  long rowsOn(BertServer worker) {
    String address = worker.system().address().toString();
    return frontend.metrics().perWorker().entrySet().stream()
        .filter(e -> e.getKey().startsWith(address + "/"))
        .mapToLong(e -> e.getValue()[0])
        .sum();
  }

  @Test
  void oneRequestRunsOnBothWorkersAndComesBackInOrder() throws Exception {
    List<String> texts = TinyBert.texts(200);
    assertInOrder(texts, encode(texts).get(60, TimeUnit.SECONDS));
    assertTrue(
        rowsOn(workerA) > 0 && rowsOn(workerB) > 0,
        "rows per worker: " + rowsOn(workerA) + ", " + rowsOn(workerB));
    assertEquals(200, rowsOn(workerA) + rowsOn(workerB));
  }

  @Test
  void eachRequestKeepsItsOwnOptionsAcrossNodesAndSharedRuns() throws Exception {
    List<String> texts = TinyBert.texts(30);
    CompletableFuture<HttpResponse<String>> plain =
        Wire.postAsync(base + "/encode", Wire.encodeBody(texts));
    CompletableFuture<HttpResponse<String>> own =
        Wire.postAsync(
            base + "/encode",
            Wire.JSON.writeValueAsString(
                Map.of("texts", texts, "normalize", true, "dimensions", 5, "prompt", "hello ")));
    assertInOrder(texts, Wire.JSON.readTree(plain.get(60, TimeUnit.SECONDS).body()));
    JsonNode result = Wire.JSON.readTree(own.get(60, TimeUnit.SECONDS).body()).get("result");
    float[][] expected =
        direct
            .encode(texts, false, new org.bertserving.engine.CallOptions("hello ", true, 5))
            .matrix();
    for (int i = 0; i < texts.size(); i++) {
      assertEquals(5, result.get(i).size());
      for (int d = 0; d < 5; d++) {
        assertEquals(expected[i][d], result.get(i).get(d).floatValue(), 1e-5, "row " + i);
      }
    }
  }

  @Test
  void thousandRowsOverManyJobsKeepTheirOrder() throws Exception {
    List<String> texts = TinyBert.texts(1000);
    assertInOrder(texts, encode(texts).get(60, TimeUnit.SECONDS));
    assertTrue(frontend.metrics().jobs() >= 1000 / 8, "many jobs");
  }

  @Test
  void aWorkerNodeTerminatedWithJobsInFlightLosesNothing() throws Exception {
    List<String> texts = TinyBert.texts(6000);
    CompletableFuture<JsonNode> reply = encode(texts);
    TestNodes.await(() -> rowsOn(workerB) > 0, 30, "worker B has started");
    assertFalse(reply.isDone(), "the request is still in flight when B goes");
    workerB.close();
    workerB = null;
    JsonNode body = reply.get(60, TimeUnit.SECONDS);
    assertInOrder(texts, body);
    assertTrue(rowsOn(workerA) > 0);
  }

  @Test
  void aWorkerThatLeavesTakesItsMetricsSeriesWithIt() throws Exception {
    encode(TinyBert.texts(200)).get(60, TimeUnit.SECONDS);
    String addressOfB = workerB.system().address() + "/";
    String b = "worker=\"" + addressOfB;
    String a = "worker=\"" + workerA.system().address() + "/";
    TestNodes.await(
        () -> scrape().contains("bert_worker_info{") && scrape().contains(b) && rowsOn(workerB) > 0,
        30,
        "worker B ran rows and described itself in /metrics");
    workerB.close();
    workerB = null;
    TestNodes.await(() -> !scrape().contains(b), 30, "worker B's series left /metrics");
    String left = scrape();
    // labelled by the worker's model too: the tiny model's folder is called "model"
    assertTrue(left.contains("bert_worker_rows_total{model=\"model\"," + a), left);
    assertFalse(
        frontend.metrics().perWorker().keySet().stream().anyMatch(w -> w.startsWith(addressOfB)));
  }

  String scrape() throws Exception {
    return Wire.get(base + "/metrics").body();
  }
}

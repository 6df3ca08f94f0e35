package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EncodedRows;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.PoolingStrategy;
import org.bertserving.engine.TinyBert;
import org.bertserving.http.Wire;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/**
 * Faults a cluster must absorb without a person, in one JVM (real ActorSystems on loopback, every
 * message serialized): results larger than a frame, an engine that throws once or again and again,
 * rows that fail on every engine.
 */
class ClusterResilienceTest {

  /** A frontend-only node with HTTP and {@code workers} worker-only nodes that join it. */
  record Cluster(BertServer frontend, List<BertServer> workers, String base)
      implements AutoCloseable {
    static Cluster start(int workers, Map<String, Object> overrides) throws Exception {
      BertServer frontend =
          TestNodes.start(TestNodes.node(List.of("frontend"), 0, true, overrides));
      List<BertServer> nodes = new ArrayList<>();
      for (int i = 1; i <= workers; i++) {
        nodes.add(
            BertServer.start(
                TestNodes.node(List.of("worker"), frontend.clusterPort(), false, overrides)));
      }
      TestNodes.awaitWorkers(frontend, workers);
      return new Cluster(frontend, nodes, "http://127.0.0.1:" + frontend.httpPort());
    }

    /** One worker node whose worker holds two jobs of at most 10 rows (prefetch 2). */
    static Cluster oneWorkerHoldingTwoJobs() throws Exception {
      return start(
          1,
          Map.of(
              "bert-serving.workers.max-batch-size", 10, "bert-serving.workers.prefetch-size", 2));
    }

    @Override
    public void close() {
      workers.forEach(BertServer::close);
      frontend.close();
    }
  }

  static HttpResponse<String> encode(String base, List<String> texts) throws Exception {
    return encodeAsync(base, texts).get(60, TimeUnit.SECONDS);
  }

  static CompletableFuture<HttpResponse<String>> encodeAsync(String base, List<String> texts) {
    return Wire.postAsync(base + "/encode", Wire.encodeBody(texts));
  }

  @Test
  void resultsLargerThanAFrameCrossNodesInChunksAndARowTooLargeFailsAtOnceNamingTheLimit()
      throws Exception {
    Map<String, Object> small =
        Map.of(
            "akka.remote.artery.advanced.maximum-frame-size", "40000b",
            "bert-serving.engine.pooling-strategy", "NONE");
    List<String> texts = TinyBert.texts(300); // ~300 x 5 tokens x 32 floats: ~300 KB, ~10 frames
    try (Cluster cluster = Cluster.start(1, small);
        BertEncoder direct =
            BertEncoder.load(
                EngineSettings.builder()
                    .modelDir(TestNodes.tinyModel())
                    .maxSeqLen(16)
                    .poolingStrategy(PoolingStrategy.NONE)
                    .build())) {
      HttpResponse<String> r = encode(cluster.base(), texts);
      assertEquals(200, r.statusCode(), r.body());
      JsonNode result = Wire.JSON.readTree(r.body()).get("result");
      EncodedRows expected = direct.encode(texts, false);
      float[][][] matrices = expected.tokenMatrices();
      assertEquals(texts.size(), result.size(), "every row");
      for (int i = 0; i < texts.size(); i += 13) {
        for (int t = 0; t < matrices[i].length; t += 3) {
          assertEquals(
              matrices[i][t][5],
              result.get(i).get(t).get(5).floatValue(),
              1e-5,
              "row " + i + " token " + t);
        }
      }
    }

    // one row of 60 tokens x 256 floats is ~77 KB, more than a 40 KB frame can carry
    Path wide = Files.createTempDirectory("wide-bert");
    TinyBert.writeGoogleFolder(
        wide, new BertConfig(TinyBert.VOCAB.size(), 256, 2, 4, 256, "gelu", 64, 2), 7, 0);
    Map<String, Object> wideModel =
        Map.of(
            "akka.remote.artery.advanced.maximum-frame-size",
            "40000b",
            "bert-serving.engine.pooling-strategy",
            "NONE",
            "bert-serving.engine.max-seq-len",
            64,
            "bert-serving.engine.model-dir",
            wide.toString());
    try (Cluster cluster = Cluster.start(1, wideModel)) {
      long start = System.nanoTime();
      HttpResponse<String> r = encode(cluster.base(), List.of("a", "the dog ".repeat(40).strip()));
      assertEquals(413, r.statusCode(), r.body());
      String description = Wire.JSON.readTree(r.body()).get("description").asText();
      assertTrue(
          description.contains("text 1") && description.contains("maximum-frame-size"),
          description);
      assertTrue(System.nanoTime() - start < 10_000_000_000L, "at once, not at the timeout");
      assertEquals(200, encode(cluster.base(), List.of("a", "the dog")).statusCode(), "serves on");
    }
  }

  @Test
  void anEngineThatThrowsFailsItsJobOnceAndRowsThatFailTwiceFailOnlyTheirRequest()
      throws Exception {
    try (Cluster cluster = Cluster.start(2, Map.of());
        BertEncoder direct = TestNodes.tinyEngine()) {
      // once: the job is tried again (on the other worker or the restarted one) and succeeds
      // (one worker armed at a time, on whichever the frontend gives the requests to)
      List<String> texts = TinyBert.texts(40);
      float[][] expected = direct.encode(texts);
      for (BertServer armed : cluster.workers()) {
        armed.faults().forEach(f -> f.failNextRuns(1));
        for (int attempt = 0;
            attempt < 5 && cluster.frontend().metrics().engineFailures.sum() == 0;
            attempt++) {
          HttpResponse<String> r = encode(cluster.base(), texts);
          assertEquals(200, r.statusCode(), r.body());
          JsonNode result = Wire.JSON.readTree(r.body()).get("result");
          for (int i = 0; i < texts.size(); i++) {
            assertEquals(expected[i][3], result.get(i).get(3).floatValue(), 1e-5, "row " + i);
          }
        }
        armed.faults().forEach(f -> f.reset());
      }
      assertEquals(1, cluster.frontend().metrics().engineFailures.sum(), "the run failed once");
      // the failed workers restarted with new sessions and are back
      TestNodes.await(
          () ->
              cluster.workers().stream().allMatch(w -> w.workers().allReady())
                  && cluster.frontend().metrics().workers.get() == 2,
          30,
          "both workers back");

      // poison: fails on every engine; its request fails with 500 naming the cause, others pass
      cluster.workers().forEach(w -> w.faults().forEach(f -> f.poison("new york")));
      long failuresBefore = cluster.frontend().metrics().engineFailures.sum();
      CompletableFuture<HttpResponse<String>> poisoned =
          encodeAsync(cluster.base(), List.of("hello world", "new york city"));
      CompletableFuture<HttpResponse<String>> innocent =
          encodeAsync(cluster.base(), List.of("the dog sat", "a cat"));
      HttpResponse<String> bad = poisoned.get(60, TimeUnit.SECONDS);
      assertEquals(500, bad.statusCode(), bad.body());
      JsonNode error = Wire.JSON.readTree(bad.body());
      assertEquals("engine_error", error.get("type").asText());
      assertTrue(error.get("description").asText().contains("poison"), bad.body());
      // the innocent request is never failed by the poison; it may meet the moment when both
      // workers open new sessions, and get 503 with Retry-After, which a client retries
      HttpResponse<String> other = innocent.get(60, TimeUnit.SECONDS);
      for (int retry = 0; other.statusCode() == 503 && retry < 30; retry++) {
        assertTrue(other.headers().firstValue("Retry-After").isPresent(), other.body());
        Thread.sleep(1000L * Long.parseLong(other.headers().firstValue("Retry-After").get()));
        other = encode(cluster.base(), List.of("the dog sat", "a cat"));
      }
      assertEquals(200, other.statusCode(), other.body());
      assertEquals(
          failuresBefore + 2,
          cluster.frontend().metrics().engineFailures.sum(),
          "tried twice, then given up: no third worker poisoned");
      cluster.workers().forEach(w -> w.faults().forEach(f -> f.reset()));
      TestNodes.await(
          () -> encode(cluster.base(), List.of("hello world")).statusCode() == 200,
          30,
          "the cluster serves on");
    }
  }

  @Test
  void aWorkerWhoseEngineFailsAgainAndAgainComesBackByItself() throws Exception {
    // one worker holding two jobs (prefetch 2), so that one waits behind the run that fails
    try (Cluster cluster = Cluster.oneWorkerHoldingTwoJobs();
        BertEncoder direct = TestNodes.tinyEngine()) {
      BertServer worker = cluster.workers().get(0);
      // the job's run fails, then the warm-up of each of the next three sessions (a device that
      // stays broken for a while): the worker waits longer before each try and does not give up
      worker.faults().forEach(f -> f.failNextRuns(4));
      List<String> first = TinyBert.texts(10);
      List<String> second = TinyBert.texts(20).subList(10, 20);
      CompletableFuture<HttpResponse<String>> one = encodeAsync(cluster.base(), first);
      CompletableFuture<HttpResponse<String>> two = encodeAsync(cluster.base(), second);
      TestNodes.await(
          () -> !worker.workers().allReady(), 20, "the failing worker's node is not ready");
      for (var reply : List.of(Map.entry(one, first), Map.entry(two, second))) {
        HttpResponse<String> r = reply.getKey().get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), "run once the worker was back: " + r.body());
        JsonNode result = Wire.JSON.readTree(r.body()).get("result");
        float[][] expected = direct.encode(reply.getValue());
        for (int i = 0; i < expected.length; i++) {
          assertEquals(expected[i][1], result.get(i).get(1).floatValue(), 1e-5, "row " + i);
        }
      }
      assertTrue(worker.workers().allReady(), "the worker's node is ready again");
      assertEquals(1, cluster.frontend().metrics().workers.get(), "registered");
      assertEquals(
          1,
          cluster.frontend().metrics().engineFailures.sum(),
          "only the first job's run failed: the failed warm-ups were the worker's own to retry");
      assertEquals(200, encode(cluster.base(), List.of("hello world")).statusCode());
    }
  }

  @Test
  void aJobPreparedBehindAFailedRunIsGivenBackNotFailed() throws Exception {
    // one worker holding two jobs: the second is tokenized while the first runs (pipelined);
    // when the first run fails, the second goes back to the frontend untried
    try (Cluster cluster = Cluster.oneWorkerHoldingTwoJobs();
        BertEncoder direct = TestNodes.tinyEngine()) {
      BertServer worker = cluster.workers().get(0);
      worker
          .faults()
          .forEach(
              f -> {
                f.delay(400);
                f.failNextRuns(1);
              });
      List<String> texts = TinyBert.texts(20); // two jobs of 10
      CompletableFuture<HttpResponse<String>> reply = encodeAsync(cluster.base(), texts);
      TestNodes.await(
          () -> cluster.frontend().metrics().engineFailures.sum() == 1, 30, "the first run failed");
      worker.faults().forEach(f -> f.delay(0));
      HttpResponse<String> r = reply.get(60, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode(), r.body());
      JsonNode result = Wire.JSON.readTree(r.body()).get("result");
      float[][] expected = direct.encode(texts);
      for (int i = 0; i < texts.size(); i++) {
        assertEquals(expected[i][2], result.get(i).get(2).floatValue(), 1e-5, "row " + i);
      }
      assertEquals(
          1,
          cluster.frontend().metrics().engineFailures.sum(),
          "the job waiting behind the failed run was given back, not run into the failure");
    }
  }
}

package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/** Backpressure (429), timeouts (504) and a cluster without workers (503), over real HTTP. */
class OverloadAndFailureTest {

  static BertServer start(List<String> roles, int http, Map<String, Object> overrides) {
    try {
      BertServer server = BertServer.start(TestNodes.node(roles, TestNodes.freePort(), 0, http, overrides));
      server.http().get(30, TimeUnit.SECONDS);
      return server;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String texts(int n) {
    return "{\"texts\": [" + String.join(",", Collections.nCopies(n, "\"the red dog runs to the blue cat\"")) + "]}";
  }

  @Test
  void overloadGets429WithRetryAfterAndTheServerServesAgainOnceLoadDrops() throws Exception {
    int http = TestNodes.freePort();
    String base = "http://127.0.0.1:" + http;
    try (BertServer server = start(List.of("frontend", "worker"), http, Map.of(
        "bert-serving.frontend.max-pending-rows", 100,
        "bert-serving.workers.max-batch-size", 4))) {
      HttpApiTest.awaitReady(base);
      CompletableFuture<HttpResponse<String>> big = HttpApiTest.CLIENT.sendAsync(
          HttpRequest.newBuilder(URI.create(base + "/encode")).header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(texts(8000))).build(),
          HttpResponse.BodyHandlers.ofString());
      long deadline = System.currentTimeMillis() + 10_000;
      while (server.metrics().pendingRows.get() == 0 && System.currentTimeMillis() < deadline) {
        Thread.sleep(1);
      }
      HttpResponse<String> refused = HttpApiTest.post(base, "/encode", texts(1));
      assertEquals(429, refused.statusCode(), refused.body());
      assertTrue(Integer.parseInt(refused.headers().firstValue("Retry-After").orElse("0")) >= 1);
      assertEquals("overloaded", HttpApiTest.json(refused).get("type").asText());
      assertEquals(200, HttpApiTest.get(base, "/ready").statusCode(), "overloaded is still ready");
      assertEquals(200, big.get(120, TimeUnit.SECONDS).statusCode(), "the accepted request completes");
      assertEquals(200, HttpApiTest.post(base, "/encode", texts(1)).statusCode(), "serves again");
    }
  }

  @Test
  void aRequestThatCannotFinishInTimeGets504() throws Exception {
    int http = TestNodes.freePort();
    String base = "http://127.0.0.1:" + http;
    try (BertServer server = start(List.of("frontend", "worker"), http, Map.of(
        "bert-serving.frontend.request-timeout", "30ms",
        "bert-serving.workers.max-batch-size", 2))) {
      HttpApiTest.awaitReady(base);
      HttpResponse<String> r = HttpApiTest.post(base, "/encode", texts(5000));
      assertEquals(504, r.statusCode(), r.body());
      JsonNode body = HttpApiTest.json(r);
      assertTrue(body.get("description").asText().contains("timed out"), r.body());
      assertEquals(200, HttpApiTest.get(base, "/ready").statusCode());
    }
  }

  @Test
  void aFrontendWithoutWorkersAnswers503AndIsNotReady() throws Exception {
    int http = TestNodes.freePort();
    String base = "http://127.0.0.1:" + http;
    try (BertServer server = start(List.of("frontend"), http, Map.of())) {
      HttpResponse<String> r = HttpApiTest.post(base, "/encode", texts(1));
      assertEquals(503, r.statusCode(), r.body());
      assertEquals("no_worker", HttpApiTest.json(r).get("type").asText());
      assertTrue(r.headers().firstValue("Retry-After").isPresent());
      assertEquals(503, HttpApiTest.get(base, "/ready").statusCode());
      assertEquals(200, HttpApiTest.get(base, "/health").statusCode(), "the process is up");
    }
  }
}

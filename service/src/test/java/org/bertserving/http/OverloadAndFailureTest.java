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

  static BertServer start(List<String> roles, Map<String, Object> overrides) {
    try {
      BertServer server = BertServer.start(TestNodes.node(roles, 0, true, overrides));
      server.started().get(30, TimeUnit.SECONDS);
      return server;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String texts(int n) {
    return "{\"texts\": ["
        + String.join(",", Collections.nCopies(n, "\"the red dog runs to the blue cat\""))
        + "]}";
  }

  @Test
  void overloadGets429WithRetryAfterAndTheServerServesAgainOnceLoadDrops() throws Exception {
    try (BertServer server =
        start(
            List.of("frontend", "worker"),
            Map.of(
                "bert-serving.frontend.max-pending-rows", 100,
                "bert-serving.workers.max-batch-size", 4))) {
      String base = "http://127.0.0.1:" + server.httpPort();
      HttpApiTest.awaitReady(base);
      CompletableFuture<HttpResponse<String>> big =
          HttpApiTest.CLIENT.sendAsync(
              HttpRequest.newBuilder(URI.create(base + "/encode"))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(texts(8000)))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      TestNodes.await(
          () -> server.metrics().pendingRows.get() > 0, 10, "the big request is pending");
      HttpResponse<String> refused = HttpApiTest.post(base, "/encode", texts(1));
      assertEquals(429, refused.statusCode(), refused.body());
      assertTrue(Integer.parseInt(refused.headers().firstValue("Retry-After").orElse("0")) >= 1);
      assertEquals("overloaded", HttpApiTest.json(refused).get("type").asText());
      assertEquals(200, HttpApiTest.get(base, "/ready").statusCode(), "overloaded is still ready");
      assertEquals(
          200, big.get(120, TimeUnit.SECONDS).statusCode(), "the accepted request completes");
      assertEquals(200, HttpApiTest.post(base, "/encode", texts(1)).statusCode(), "serves again");
    }
  }

  @Test
  void aRequestOnAStalledWorkerGets504WithinItsTimeout() throws Exception {
    try (BertServer server =
        start(
            List.of("frontend", "worker"),
            Map.of("bert-serving.frontend.request-timeout", "500ms"))) {
      String base = "http://127.0.0.1:" + server.httpPort();
      HttpApiTest.awaitReady(base);
      server.faults().forEach(f -> f.delay(2000)); // a stalled device
      long start = System.nanoTime();
      HttpResponse<String> r = HttpApiTest.post(base, "/encode", texts(3));
      assertEquals(504, r.statusCode(), r.body());
      assertTrue(System.nanoTime() - start < 1_900_000_000L, "answered by the request timeout");
      JsonNode body = HttpApiTest.json(r);
      assertTrue(body.get("description").asText().contains("timed out"), r.body());
      server.faults().forEach(f -> f.reset());
      assertEquals(200, HttpApiTest.get(base, "/ready").statusCode());
    }
  }

  @Test
  void aRequestThatCouldNotFinishEvenAloneGets413NamingTheTimeout() throws Exception {
    try (BertServer server =
        start(
            List.of("frontend", "worker"),
            Map.of(
                "bert-serving.frontend.request-timeout",
                "100ms",
                "bert-serving.frontend.max-request-rows",
                1_000_000))) {
      String base = "http://127.0.0.1:" + server.httpPort();
      HttpApiTest.awaitReady(base);
      TestNodes.await(
          () -> server.metrics().capacityTokensPerSecond.get() > 0, 10, "speed measured");
      // three times the work the measured workers do in the 100 ms timeout, whatever the
      // machine's speed (texts of ~10 tokens; 16 MB of body allow up to ~15M tokens/s)
      double capacity = server.metrics().capacityTokensPerSecond.get();
      int n = (int) Math.max(1000, Math.ceil(capacity * 0.1 * 3 / 10));
      HttpResponse<String> r = HttpApiTest.post(base, "/encode", texts(n));
      assertEquals(413, r.statusCode(), r.body());
      String description = HttpApiTest.json(r).get("description").asText();
      assertTrue(
          description.contains("request timeout") && description.contains("tokens/s"), description);
      assertEquals(1, server.metrics().requests.sum());
      assertEquals(0, server.metrics().pendingRows.get());
    }
  }

  @Test
  void aFrontendWithoutWorkersAnswers503AndIsNotReady() throws Exception {
    try (BertServer server = start(List.of("frontend"), Map.of())) {
      String base = "http://127.0.0.1:" + server.httpPort();
      HttpResponse<String> r = HttpApiTest.post(base, "/encode", texts(1));
      assertEquals(503, r.statusCode(), r.body());
      assertEquals("no_worker", HttpApiTest.json(r).get("type").asText());
      assertTrue(r.headers().firstValue("Retry-After").isPresent());
      assertEquals(503, HttpApiTest.get(base, "/ready").statusCode());
      assertEquals(200, HttpApiTest.get(base, "/health").statusCode(), "the process is up");
    }
  }
}

package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/** Backpressure (429), timeouts (504) and a cluster without workers (503), over real HTTP. */
class OverloadAndFailureTest {

  static BertServer start(List<String> roles, Map<String, Object> overrides) throws Exception {
    return TestNodes.start(TestNodes.node(roles, 0, true, overrides));
  }

  /** An /encode body of {@code n} texts of about 10 tokens. */
  static String texts(int n) {
    return Wire.encodeBody(n, "the red dog runs to the blue cat");
  }

  @Test
  void overloadGets429WithRetryAfterNever5xxAndTheServerServesAgainOnceLoadDrops()
      throws Exception {
    try (BertServer server =
        start(
            List.of("frontend", "worker"),
            Map.of(
                "bert-serving.frontend.max-pending-rows", 100,
                "bert-serving.workers.max-batch-size", 4))) {
      String base = "http://127.0.0.1:" + server.httpPort();
      Wire.awaitReady(base);
      // a stalled device holds the big request's rows pending however fast this machine is, so
      // that the requests after it are over admission for certain
      server.faults().forEach(f -> f.delay(300));
      CompletableFuture<HttpResponse<String>> big = Wire.postAsync(base + "/encode", texts(400));
      TestNodes.await(
          () -> server.metrics().pendingRows.get() >= 100, 10, "the big request is pending");
      List<CompletableFuture<HttpResponse<String>>> over = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        over.add(Wire.postAsync(base + "/encode", texts(5)));
      }
      for (CompletableFuture<HttpResponse<String>> f : over) {
        HttpResponse<String> refused = f.get(60, TimeUnit.SECONDS);
        assertEquals(429, refused.statusCode(), refused.body());
        assertTrue(Integer.parseInt(refused.headers().firstValue("Retry-After").orElse("0")) >= 1);
        assertEquals("overloaded", Wire.json(refused).get("type").asText());
      }
      assertEquals(200, Wire.get(base + "/ready").statusCode(), "overloaded is still ready");
      server.faults().forEach(f -> f.reset());
      HttpResponse<String> done = big.get(120, TimeUnit.SECONDS);
      assertEquals(200, done.statusCode(), "the accepted request completes");
      assertEquals(400, Wire.json(done).get("result").size(), "every row answered");
      assertEquals(200, Wire.post(base + "/encode", texts(1)).statusCode(), "serves again");
      // a reply is counted as it leaves, which can be just after the client has read it
      TestNodes.await(
          () -> server.metrics().replies().values().stream().mapToLong(Long::longValue).sum() >= 10,
          10,
          "ten replies counted");
      Map<Integer, Long> replies = server.metrics().replies();
      assertEquals(
          Map.of(200, 2L, 429, 8L),
          Map.copyOf(replies),
          "every request answered, none with a 5xx: " + replies);
    }
  }

  @Test
  void aRequestOnAStalledWorkerGets504WithinItsTimeout() throws Exception {
    try (BertServer server =
        start(
            List.of("frontend", "worker"),
            Map.of("bert-serving.frontend.request-timeout", "500ms"))) {
      String base = "http://127.0.0.1:" + server.httpPort();
      Wire.awaitReady(base);
      server.faults().forEach(f -> f.delay(2000)); // a stalled device
      long start = System.nanoTime();
      HttpResponse<String> r = Wire.post(base + "/encode", texts(3));
      assertEquals(504, r.statusCode(), r.body());
      assertTrue(System.nanoTime() - start < 1_900_000_000L, "answered by the request timeout");
      JsonNode body = Wire.json(r);
      assertTrue(body.get("description").asText().contains("timed out"), r.body());
      server.faults().forEach(f -> f.reset());
      assertEquals(200, Wire.get(base + "/ready").statusCode());
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
                // size limits that do not refuse first (the body's allows up to ~60M tokens/s,
                // hundreds of times the tiny model's speed): the refusal must be admission's
                "bert-serving.frontend.max-request-rows",
                10_000_000,
                "bert-serving.http.max-body-bytes",
                "64m"))) {
      String base = "http://127.0.0.1:" + server.httpPort();
      Wire.awaitReady(base);
      TestNodes.await(
          () -> server.metrics().capacityTokensPerSecond.get() > 0, 10, "speed measured");
      // three times the work the measured workers do in the 100 ms timeout, whatever the
      // machine's speed (texts of ~10 tokens)
      double capacity = server.metrics().capacityTokensPerSecond.get();
      int n = (int) Math.max(1000, Math.ceil(capacity * 0.1 * 3 / 10));
      HttpResponse<String> r = Wire.post(base + "/encode", texts(n));
      assertEquals(413, r.statusCode(), r.body());
      String description = Wire.json(r).get("description").asText();
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
      HttpResponse<String> r = Wire.post(base + "/encode", texts(1));
      assertEquals(503, r.statusCode(), r.body());
      assertEquals("no_worker", Wire.json(r).get("type").asText());
      assertTrue(r.headers().firstValue("Retry-After").isPresent());
      assertEquals(503, Wire.get(base + "/ready").statusCode());
      assertEquals(200, Wire.get(base + "/health").statusCode(), "the process is up");
      assertEquals(200, Wire.get(base + "/ping").statusCode(), "TEI's /ping: the same");
    }
  }
}

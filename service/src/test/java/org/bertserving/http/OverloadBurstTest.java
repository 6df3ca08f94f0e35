package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bertserving.client.BertClient;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/**
 * A burst far beyond capacity gets 200s and 429s only, never 504: the frontend admits work by its
 * measured speed, and a client that honours {@code Retry-After} gets through.
 */
class OverloadBurstTest {

  @Test
  void aBurstOfFourTimesWhat3sCanTakeGets200Or429AndARetryingClientGetsThrough() throws Exception {
    // a model slow enough that its TensorFlow time, not the serving path, bounds its speed
    Path model = TestNodes.mediumModel();
    try (BertServer server =
        TestNodes.serving(
            Map.of(
                "bert-serving.engine.model-dir",
                model.toString(),
                "bert-serving.engine.max-seq-len",
                32,
                "bert-serving.frontend.request-timeout",
                "3s"))) {
      String base = "http://127.0.0.1:" + server.httpPort();
      Wire.awaitReady(base);
      String body =
          Wire.encodeBody(200, "the red dog runs to the blue cat and the small cat sat on the mat");
      // sized from the measured speed, not from this machine's: four times the tokens the 3 s
      // timeout lets the frontend queue (14 words: ~21 tokens a text by its estimate), so that
      // most of it is refused on a machine of any speed
      TestNodes.await(
          () -> server.metrics().capacityTokensPerSecond.get() > 0, 30, "speed measured");
      double budget = server.metrics().capacityTokensPerSecond.get() * 3 * 0.8;
      int requests = (int) Math.max(60, Math.ceil(4 * budget / (200 * 21)));
      List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
      for (int i = 0; i < requests; i++) {
        burst.add(Wire.postAsync(base + "/encode", body));
      }
      Map<Integer, Integer> statuses = new TreeMap<>();
      List<Integer> retryAfter = new ArrayList<>();
      for (CompletableFuture<HttpResponse<String>> f : burst) {
        HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
        statuses.merge(r.statusCode(), 1, Integer::sum);
        if (r.statusCode() == 429) {
          retryAfter.add(Integer.parseInt(r.headers().firstValue("Retry-After").orElseThrow()));
        }
      }
      System.out.println("burst: " + statuses + ", Retry-After " + retryAfter);
      assertEquals(
          List.of(200, 429), List.copyOf(statuses.keySet()), "only 200 and 429: " + statuses);
      assertTrue(
          statuses.get(429) >= requests / 3,
          "much of the burst is refused at once: " + statuses + " of " + requests);
      assertTrue(
          retryAfter.stream().allMatch(s -> s >= 1 && s <= 3),
          "Retry-After within the" + " time the queue needs: " + retryAfter);
      assertEquals(0, server.metrics().replies().getOrDefault(504, 0L));

      // a client that honours Retry-After, in a second burst, gets through
      try (BertClient client =
          BertClient.builder()
              .http(URI.create(base))
              .retries(10)
              .timeout(Duration.ofSeconds(10))
              .checkLength(false)
              .build()) {
        List<CompletableFuture<float[][]>> again = new ArrayList<>();
        List<String> texts =
            Collections.nCopies(200, "the red dog runs to the blue cat and the small cat");
        for (int i = 0; i < 20; i++) {
          again.add(client.encodeAsync(texts));
        }
        for (CompletableFuture<float[][]> f : again) {
          assertEquals(200, f.get(120, TimeUnit.SECONDS).length);
        }
      }
      assertEquals(0, server.metrics().replies().getOrDefault(504, 0L));
    }
  }
}

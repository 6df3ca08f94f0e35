package org.bertserving.tools;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bertserving.client.BertClient;

/**
 * {@code ops/bert-serving-chaos -burst}: one node (one worker, default flags) in its own JVM gets
 * {@code requests} concurrent requests of {@code texts} texts, far beyond what it can finish within
 * the request timeout; prints the answers by status, the Retry-After values, and how long a client
 * that honours Retry-After (the SDK) takes to get the same request through afterwards.
 */
final class Burst {
  /** Concurrent SDK clients of the second part: enough to be refused, few enough to finish soon. */
  private static final int SDK_CLIENTS = 8;

  private Burst() {}

  static void run(Path modelDir, int requests, int texts, Path logDir) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "-cluster_host",
                "127.0.0.1",
                "-cluster_port",
                "0",
                "-http_interface",
                "127.0.0.1",
                "-http_port",
                "0",
                "-management_interface",
                "127.0.0.1",
                "-management_port",
                "0"));
    if (modelDir != null) {
      args.addAll(List.of("-model_dir", modelDir.toString()));
    }
    HttpClient client = HttpClient.newHttpClient();
    try (NodeProcess node =
        NodeProcess.start("burst", NodeProcess.ownClasspath(), List.of("-Xmx2g"), args, logDir)) {
      String base = "http://127.0.0.1:" + node.ports(Duration.ofMinutes(3)).http();
      Waits.until(
          "node ready (see " + node.log() + ")", Duration.ofMinutes(3), () -> ready(client, base));
      List<String> batch = Chaos.corpus(texts, new java.util.Random(3));
      String body =
          "{\"texts\": ["
              + String.join(",", batch.stream().map(t -> "\"" + t + "\"").toList())
              + "]}";
      long start = System.nanoTime();
      record Answer(HttpResponse<String> response, long millis) {}
      List<CompletableFuture<Answer>> burst = new ArrayList<>();
      for (int i = 0; i < requests; i++) {
        burst.add(
            client
                .sendAsync(
                    HttpRequest.newBuilder(URI.create(base + "/encode"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> new Answer(r, (System.nanoTime() - start) / 1_000_000)));
      }
      Map<Integer, List<Long>> byStatus = new TreeMap<>();
      List<Integer> retryAfter = new ArrayList<>();
      for (CompletableFuture<Answer> f : burst) {
        Answer a = f.get(5, TimeUnit.MINUTES);
        byStatus.computeIfAbsent(a.response().statusCode(), s -> new ArrayList<>()).add(a.millis());
        a.response()
            .headers()
            .firstValue("Retry-After")
            .ifPresent(v -> retryAfter.add(Integer.parseInt(v)));
      }
      System.out.printf(
          Locale.ROOT,
          "%d concurrent requests of %d texts on one worker (request timeout 60 s):%n%n",
          requests,
          texts);
      System.out.println("| status | requests | last answer after ms |\n|---:|---:|---:|");
      byStatus.forEach(
          (status, times) ->
              System.out.printf(
                  Locale.ROOT, "| %d | %d | %d |%n", status, times.size(), Collections.max(times)));
      if (!retryAfter.isEmpty()) {
        System.out.printf(
            Locale.ROOT,
            "%nRetry-After: %d to %d s%n",
            Collections.min(retryAfter),
            Collections.max(retryAfter));
      }
      try (BertClient sdk =
          BertClient.builder()
              .http(URI.create(base))
              .retries(20)
              .timeout(Duration.ofSeconds(90))
              .checkLength(false)
              .build()) {
        long again = System.nanoTime();
        List<CompletableFuture<float[][]>> retried = new ArrayList<>();
        int clients = Math.min(requests, SDK_CLIENTS);
        for (int i = 0; i < clients; i++) {
          retried.add(sdk.encodeAsync(batch));
        }
        int ok = 0;
        for (CompletableFuture<float[][]> f : retried) {
          ok += f.get(30, TimeUnit.MINUTES).length == texts ? 1 : 0;
        }
        System.out.printf(
            Locale.ROOT,
            "%n%d such requests at once through the SDK (it honours Retry-After):"
                + " %d answered 200, all within %.0f s%n",
            clients,
            ok,
            (System.nanoTime() - again) / 1e9);
      }
      node.stop(Duration.ofSeconds(120));
    }
  }

  private static boolean ready(HttpClient client, String base) {
    try {
      return client
              .send(
                  HttpRequest.newBuilder(URI.create(base + "/ready")).build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode()
          == 200;
    } catch (Exception e) {
      return false;
    }
  }
}

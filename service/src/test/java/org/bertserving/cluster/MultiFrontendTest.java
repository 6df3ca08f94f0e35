package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.javadsl.Adapter;
import akka.remote.RARP;
import akka.remote.transport.ThrottlerTransportAdapter;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bertserving.http.Wire;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two frontends and one worker, three ActorSystems in one JVM: the frontends share their backlog,
 * so that together they admit what one alone would (429s, never 504s), and one that falls silent no
 * longer counts within seconds.
 */
class MultiFrontendTest {
  static final Duration TIMEOUT = Duration.ofSeconds(4);
  static final int MAX_SEQ_LEN = 32;
  static final String TEXT = "the red dog runs to the blue cat and the small cat sat on the mat";

  BertServer a;
  BertServer b;
  BertServer worker;

  @BeforeEach
  void startCluster() throws Exception {
    Map<String, Object> o =
        Map.of(
            "bert-serving.frontend.request-timeout",
            TIMEOUT.toMillis() + "ms",
            "bert-serving.frontend.max-request-rows",
            100_000,
            "bert-serving.frontend.max-pending-rows",
            10_000_000,
            // a frontend cut off by the test must not be downed (nor down the others) meanwhile
            "akka.cluster.split-brain-resolver.stable-after",
            "120s",
            // Artery's blackhole, for the frontend that falls silent
            "akka.remote.artery.advanced.test-mode",
            "on",
            // TensorFlow's time outweighs the serving path's, as with a real model
            "bert-serving.engine.model-dir",
            TestNodes.mediumModel().toString(),
            "bert-serving.engine.max-seq-len",
            MAX_SEQ_LEN);
    a = TestNodes.start(TestNodes.node(List.of("frontend"), 0, true, o));
    b = TestNodes.start(TestNodes.node(List.of("frontend"), a.clusterPort(), true, o));
    worker = BertServer.start(TestNodes.node(List.of("worker"), a.clusterPort(), false, o));
    TestNodes.awaitWorkers(a, 1);
    TestNodes.awaitWorkers(b, 1);
    TestNodes.await(
        () -> a.metrics().frontends.get() == 2 && b.metrics().frontends.get() == 2,
        30,
        "each frontend hears the other");
    TestNodes.await(
        () -> capacity(a) > 0 && capacity(b) > 0, 30, "both frontends know the worker's speed");
  }

  @AfterEach
  void stopCluster() {
    for (BertServer s : new BertServer[] {worker, b, a}) {
      if (s != null) {
        s.close();
      }
    }
  }

  static double capacity(BertServer frontend) {
    return frontend.metrics().capacityTokensPerSecond.get();
  }

  /** Texts per request for {@code share} of the budget (the work the cluster may hold). */
  static int textsFor(double share, double capacity) {
    long perText = new Admission(TIMEOUT, MAX_SEQ_LEN).estimate(List.of(TEXT), false);
    double budget = capacity * TIMEOUT.toMillis() / 1000.0 * Admission.MARGIN;
    return (int) Math.max(1, Math.ceil(budget * share / perText));
  }

  /** How many requests of {@code texts} texts one frontend alone admits, nothing computed. */
  static int oneAloneAdmits(int texts, double capacity) {
    Admission alone = new Admission(TIMEOUT, MAX_SEQ_LEN);
    alone.workerJoined("worker", capacity);
    long tokens = alone.estimate(Collections.nCopies(texts, TEXT), false);
    int n = 0;
    while (alone.decide(tokens).status() == 0) {
      alone.admitted("r" + n, tokens, texts);
      n++;
    }
    return n;
  }

  static CompletableFuture<HttpResponse<String>> encode(BertServer frontend, int texts) {
    return Wire.postAsync(
        "http://127.0.0.1:" + frontend.httpPort() + "/encode", Wire.encodeBody(texts, TEXT));
  }

  static HttpResponse<String> get(BertServer node, String path) throws Exception {
    return Wire.get("http://127.0.0.1:" + node.httpPort() + path);
  }

  static long replies(BertServer frontend, int status) {
    return frontend.metrics().replies().getOrDefault(status, 0L);
  }

  /** Rows the worker computed for the frontends' jobs so far. */
  long rowsComputed() {
    return List.of(a, b).stream()
        .flatMap(f -> f.metrics().perWorker().values().stream())
        .mapToLong(v -> v[0])
        .sum();
  }

  @Test
  void aBurstOnBothFrontendsGets200Or429NeverMoreThanOneFrontendAloneWouldAdmit() throws Exception {
    int perFrontend = 15;
    // each request a quarter of the budget: one frontend alone admits 4 while nothing is computed
    double before = Math.max(capacity(a), capacity(b));
    int texts = textsFor(0.25, before);
    List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
    for (int i = 0; i < perFrontend; i++) {
      burst.add(encode(a, texts));
      burst.add(encode(b, texts));
    }
    // both frontends hold jobs on the worker at once, each at most prefetch_size of them
    int[] most = {0, 0};
    TestNodes.await(
        () -> {
          int onA = jobsInFlight(a);
          int onB = jobsInFlight(b);
          most[0] = Math.max(most[0], onA);
          most[1] = Math.max(most[1], onB);
          return onA > 0 && onB > 0;
        },
        30,
        "both frontends' jobs on the worker");
    int prefetch = a.settings().prefetchSize();
    assertTrue(
        most[0] <= prefetch && most[1] <= prefetch,
        "jobs per frontend: " + most[0] + ", " + most[1]);
    TestNodes.await(
        () ->
            a.metrics().requests.sum() == perFrontend && b.metrics().requests.sum() == perFrontend,
        30,
        "every request reached its frontend");
    long computedDuringBurst = rowsComputed();
    // the speed admission used: the warm-up's, or as jobs finished during the burst measured it
    double capacity = Math.max(before, Math.max(capacity(a), capacity(b)));
    Map<Integer, Integer> statuses = new TreeMap<>();
    for (CompletableFuture<HttpResponse<String>> f : burst) {
      HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
      statuses.merge(r.statusCode(), 1, Integer::sum);
      if (r.statusCode() == 429) {
        int retryAfter = Integer.parseInt(r.headers().firstValue("Retry-After").orElse("0"));
        assertTrue(retryAfter >= 1, "Retry-After " + retryAfter);
      }
    }
    // what computing freed during the burst may be admitted again, in whole requests
    int freed = (int) Math.ceil(computedDuringBurst / (double) texts);
    int bound = oneAloneAdmits(texts, capacity) + 1 + freed;
    System.out.println(
        "burst of 2 x "
            + perFrontend
            + " requests of "
            + texts
            + " texts: "
            + statuses
            + "; one frontend alone admits "
            + oneAloneAdmits(texts, capacity)
            + ", freed during the burst "
            + freed
            + "; capacity "
            + Math.round(before)
            + " -> "
            + Math.round(capacity)
            + " -> "
            + Math.round(Math.max(capacity(a), capacity(b)))
            + " tokens/s; A "
            + replies(a, 200)
            + "/"
            + replies(a, 504)
            + ", B "
            + replies(b, 200)
            + "/"
            + replies(b, 504));
    assertEquals(List.of(200, 429), List.copyOf(statuses.keySet()), "200s and 429s: " + statuses);
    assertEquals(0, replies(a, 504) + replies(b, 504), "no request timed out");
    assertTrue(
        statuses.get(200) <= bound,
        statuses.get(200) + " admitted; one frontend alone: at most " + bound);
    assertTrue(replies(a, 200) > 0 && replies(b, 200) > 0, "neither frontend starves");
  }

  static int jobsInFlight(BertServer frontend) throws Exception {
    JsonNode status = Wire.JSON.readTree(get(frontend, "/status/server").body());
    return status.get("workers").get(0).get("jobs_in_flight").asInt();
  }

  /** Cuts {@code from} off from {@code to} both ways (Artery's test-mode blackhole), or heals. */
  static void blackhole(BertServer from, BertServer to, boolean on) throws Exception {
    RARP rarp = (RARP) RARP.get(Adapter.toClassic(from.system()));
    Object command =
        new ThrottlerTransportAdapter.SetThrottle(
            to.system().address(),
            ThrottlerTransportAdapter.bothDirection(),
            on
                ? ThrottlerTransportAdapter.blackholeThrottleMode()
                : ThrottlerTransportAdapter.unthrottledThrottleMode());
    scala.concurrent.Await.result(
        rarp.provider().transport().managementCommand(command),
        scala.concurrent.duration.Duration.create(10, TimeUnit.SECONDS));
  }

  @Test
  void aFrontendThatFallsSilentStopsCountingWithinSeconds() throws Exception {
    double capacity = Math.max(capacity(a), capacity(b));
    // the worker stalls: what A admits stays A's backlog while the test looks at B
    worker.faults().forEach(f -> f.delay(3000));
    CompletableFuture<HttpResponse<String>> onA = encode(a, textsFor(0.6, capacity));
    String addressOfA = a.system().address().toString();
    TestNodes.await(
        () -> b.metrics().otherFrontends.getOrDefault(addressOfA, 0.0) > 0,
        10,
        "B hears of A's backlog");
    JsonNode status = Wire.JSON.readTree(get(b, "/status/server").body());
    assertEquals(2, status.get("frontends_seen").asInt(), status.toString());
    assertTrue(status.get("other_frontends_backlog_tokens").get(addressOfA).asLong() > 0);
    assertTrue(
        status.get("cluster_backlog_seconds").asDouble() > status.get("backlog_seconds").asDouble(),
        "A's backlog counts in B's: " + status);
    String metrics = get(b, "/metrics").body();
    assertTrue(metrics.contains("\nbert_frontends 2.0\n"), metrics);
    assertTrue(metrics.contains("\nbert_cluster_backlog_seconds{model=\""), metrics);

    int half = textsFor(0.5, capacity);
    HttpResponse<String> refused = encode(b, half).get(30, TimeUnit.SECONDS);
    assertEquals(429, refused.statusCode(), refused.body());
    assertTrue(refused.body().contains("2 frontends"), refused.body());
    assertTrue(refused.headers().firstValue("Retry-After").isPresent());

    // A falls silent to B (as a crashed or cut-off node does) while its work is still queued
    blackhole(a, b, true);
    try {
      TestNodes.await(
          () -> b.metrics().frontends.get() == 1 && b.metrics().otherFrontends.isEmpty(),
          10,
          "B forgets A");
      assertEquals(
          b.metrics().backlogSeconds.get(),
          b.metrics().clusterBacklogSeconds.get(),
          1e-9,
          "B's admission counts its own backlog only");
      worker.faults().forEach(f -> f.reset());
      HttpResponse<String> admitted = encode(b, half).get(30, TimeUnit.SECONDS);
      assertNotEquals(429, admitted.statusCode(), "A's share no longer counts: " + admitted.body());
    } finally {
      blackhole(a, b, false);
    }
    TestNodes.await(() -> b.metrics().frontends.get() == 2, 30, "A is heard again once healed");
    onA.get(30, TimeUnit.SECONDS);
  }
}

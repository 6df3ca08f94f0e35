package org.bertserving.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineSettings;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Java SDK's HTTP transport against a real server (tiny model) on loopback. */
class BertClientHttpTest {
  static BertServer server;
  static int port;
  static BertClient client;
  static BertEncoder direct;

  @BeforeAll
  static void start() throws Exception {
    port = TestNodes.freePort();
    server = BertServer.start(TestNodes.node(List.of("frontend", "worker"), TestNodes.freePort(), 0, port, Map.of()));
    server.http().get(30, TimeUnit.SECONDS);
    client = BertClient.http("127.0.0.1", port);
    long deadline = System.currentTimeMillis() + 30_000;
    while (server.metrics().workers.get() == 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
    direct = BertEncoder.load(EngineSettings.builder().modelDir(TestNodes.tinyModel()).maxSeqLen(16).build());
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
    direct.close();
  }

  static void assertRowsClose(float[][] expected, float[][] actual) {
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) {
      assertArrayEquals(expected[i], actual[i], 1e-5f, "row " + i);
    }
  }

  @Test
  void encodeOptionsTokensAndAsync() throws Exception {
    List<String> texts = List.of("hello world", "how are you ?", "new york ||| big city");
    assertRowsClose(direct.encode(texts), client.encode(texts));
    EncodeResult withTokens = client.encode(texts, EncodeOptions.withTokens());
    assertEquals(List.of("[CLS]", "hello", "world", "[SEP]"), withTokens.tokens().get(0));
    assertNull(client.encode(texts, EncodeOptions.DEFAULT).tokens());
    assertRowsClose(direct.encode(List.of("hello world")),
        client.encodeTokenized(List.of(List.of("hello", "world"))));
    assertRowsClose(direct.encode(texts), client.encodeAsync(texts).get(30, TimeUnit.SECONDS));
  }

  @Test
  void thirtyTwoThreadsShareOneClient() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(32);
    List<Future<Boolean>> results = new ArrayList<>();
    for (int t = 0; t < 32; t++) {
      int thread = t;
      results.add(pool.submit(() -> {
        for (int i = 0; i < 10; i++) {
          List<String> texts = List.of("the dog " + thread, "a cat " + i);
          float[][] got = client.encode(texts);
          float[][] want = direct.encode(texts);
          for (int r = 0; r < 2; r++) {
            for (int d = 0; d < want[r].length; d++) {
              if (Math.abs(want[r][d] - got[r][d]) > 1e-5) {
                return false;
              }
            }
          }
        }
        return true;
      }));
    }
    for (Future<Boolean> r : results) {
      assertTrue(r.get(120, TimeUnit.SECONDS), "every thread got its own rows");
    }
    pool.shutdown();
  }

  @Test
  void statusAndConfigAreTypedAndKeepUnknownFields() {
    ServerStatus status = client.serverStatus();
    assertEquals(16, status.maxSeqLen());
    assertEquals("REDUCE_MEAN", status.poolingStrategy());
    assertEquals(List.of(-2), status.poolingLayer());
    assertEquals(1, status.numWorkers());
    assertTrue(status.fields().containsKey("cluster_members"), "fields beyond the typed ones");
    ServerConfig config = client.serverConfig();
    assertEquals(16, config.maxSeqLen());
    assertEquals(status.serverVersion(), config.serverVersion());
    assertTrue(!config.fields().containsKey("statistic"), "config has no statistics");
  }

  @Test
  void failuresAreTyped() throws Exception {
    long requests = server.metrics().requests.sum();
    assertThrows(IllegalArgumentException.class, () -> client.encode(Arrays.asList("a", null)));
    assertThrows(IllegalArgumentException.class, () -> client.encode(List.of("a", " ")));
    assertThrows(IllegalArgumentException.class, () -> client.encode(List.of()));
    assertEquals(requests, server.metrics().requests.sum(), "nothing was sent");

    BertServerException bad = assertThrows(BertServerException.class, () -> client.encode(List.of("a |||")));
    assertEquals(400, bad.status());
    assertEquals("invalid_input", bad.type());
    assertTrue(bad.description().contains("input 0"), bad.description());

    int frontendOnly = TestNodes.freePort();
    try (BertServer noWorkers = BertServer.start(TestNodes.node(List.of("frontend"), TestNodes.freePort(), 0,
            frontendOnly, Map.of()));
        BertClient impatient = BertClient.builder().http(URI.create("http://127.0.0.1:" + frontendOnly))
            .retries(1).checkLength(false).build()) {
      noWorkers.http().get(30, TimeUnit.SECONDS);
      long start = System.nanoTime();
      BertOverloadedException overloaded = assertThrows(BertOverloadedException.class,
          () -> impatient.encode(List.of("hello")));
      assertEquals(503, overloaded.status());
      assertTrue(System.nanoTime() - start >= 900_000_000L, "waited Retry-After (1 s) once");
    }

    int slow = TestNodes.freePort();
    try (BertServer timesOut = BertServer.start(TestNodes.node(List.of("frontend", "worker"), TestNodes.freePort(),
            0, slow, Map.of("bert-serving.frontend.request-timeout", "20ms", "bert-serving.workers.max-batch-size", 2)));
        BertClient c = BertClient.builder().http(URI.create("http://127.0.0.1:" + slow)).timeout(Duration.ofSeconds(30)).build()) {
      timesOut.http().get(30, TimeUnit.SECONDS);
      List<String> many = java.util.Collections.nCopies(5000, "the red dog runs to the blue cat");
      assertThrows(BertTimeoutException.class, () -> c.encode(many));
    }
  }

  @Test
  void tokenVectorsFromANonePoolingServer() throws Exception {
    int none = TestNodes.freePort();
    try (BertServer server = BertServer.start(TestNodes.node(List.of("frontend", "worker"), TestNodes.freePort(),
            0, none, Map.of("bert-serving.engine.pooling-strategy", "NONE")));
        BertClient c = BertClient.http("127.0.0.1", none)) {
      server.http().get(30, TimeUnit.SECONDS);
      long deadline = System.currentTimeMillis() + 30_000;
      while (server.metrics().workers.get() == 0 && System.currentTimeMillis() < deadline) {
        Thread.sleep(50);
      }
      float[][][] tokens = c.encodeTokens(List.of("hello world", "a"));
      assertEquals(16, tokens[0].length, "padded to max_seq_len");
      assertEquals(0f, tokens[1][5][0], "padding is zero");
      assertThrows(BertClientException.class, () -> client.encodeTokens(List.of("pooled server")));
    }
  }
}

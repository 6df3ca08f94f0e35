package org.bertserving.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bertserving.engine.BertEncoder;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What every transport of the Java SDK must do, against real servers (tiny model) on loopback; one
 * subclass per transport.
 */
abstract class BertClientContractTest {
  static BertEncoder direct;
  BertServer server;
  BertClient client;

  /**
   * A client of this transport for a node with these ports, retrying 429/503 {@code retries} times.
   */
  abstract BertClient connect(Node node, int retries);

  /** A started node and its ports. */
  record Node(BertServer server, int httpPort, int clusterPort) implements AutoCloseable {
    @Override
    public void close() {
      server.close();
    }
  }

  static Node start(List<String> roles, Map<String, Object> overrides) throws Exception {
    BertServer server = TestNodes.start(TestNodes.node(roles, 0, true, overrides));
    if (roles.contains("worker")) {
      TestNodes.awaitWorkers(server, 1);
    }
    return new Node(server, server.httpPort(), server.clusterPort());
  }

  @BeforeAll
  static void loadDirect() throws Exception {
    direct = TestNodes.tinyEngine();
  }

  @AfterAll
  static void closeDirect() {
    direct.close();
  }

  Node node;

  @org.junit.jupiter.api.BeforeEach
  void startNode() throws Exception {
    node = start(List.of("frontend", "worker"), Map.of());
    server = node.server();
    client = connect(node, 3);
  }

  @org.junit.jupiter.api.AfterEach
  void stopNode() {
    client.close();
    node.close();
  }

  @Test
  void streamsTenThousandRowsInOrder() {
    List<String> words =
        List.of("hello", "world", "the", "dog", "cat", "red", "blue", "big", "small", "city");
    List<String> corpus = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      corpus.add(
          words.get(i % 10) + " " + words.get((i / 10) % 10) + " " + words.get((i / 100) % 10));
    }
    List<float[]> rows = client.encodeStream(corpus.stream(), 256, 4).toList();
    assertEquals(10_000, rows.size());
    float[][] expected = direct.encode(corpus.subList(0, 1000));
    for (int i = 0; i < 1000; i += 37) {
      assertArrayEquals(expected[i], rows.get(i), 1e-5f, "row " + i);
    }
    assertArrayEquals(direct.encode(List.of(corpus.get(9_999)))[0], rows.get(9_999), 1e-5f);
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
    assertRowsClose(
        direct.encode(List.of("hello world")),
        client.encodeTokenized(List.of(List.of("hello", "world"))));
    assertRowsClose(direct.encode(texts), client.encodeAsync(texts).get(30, TimeUnit.SECONDS));
    // a sentence-embedding request: prompt, normalization, Matryoshka dimensions
    EncodeResult own =
        client.encode(texts, EncodeOptions.DEFAULT.prompt("the ").normalize(true).dimensions(6));
    assertRowsClose(
        direct
            .encode(texts, false, new org.bertserving.engine.CallOptions("the ", true, 6))
            .matrix(),
        own.vectors());
    // the model by name (the tiny model's folder is called "model"); an unknown one is a typed 404
    assertRowsClose(
        direct.encode(texts), client.encode(texts, EncodeOptions.DEFAULT.model("model")).vectors());
    BertServerException unknown =
        assertThrows(
            BertServerException.class,
            () -> client.encode(texts, EncodeOptions.DEFAULT.model("bert-large")));
    assertEquals(404, unknown.status());
    assertEquals("model_not_found", unknown.type());
  }

  @Test
  void thirtyTwoThreadsShareOneClient() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(32);
    List<Future<Boolean>> results = new ArrayList<>();
    for (int t = 0; t < 32; t++) {
      int thread = t;
      results.add(
          pool.submit(
              () -> {
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

    BertServerException bad =
        assertThrows(
            BertServerException.class,
            () -> client.encode(List.of(List.of("|||", "b")), new EncodeOptions(true, false)));
    assertEquals(400, bad.status());
    assertEquals("invalid_input", bad.type());
    assertTrue(bad.description().contains("input 0"), bad.description());

    try (Node noWorkers = start(List.of("frontend"), Map.of());
        BertClient impatient = connect(noWorkers, 1)) {
      long start = System.nanoTime();
      BertOverloadedException overloaded =
          assertThrows(BertOverloadedException.class, () -> impatient.encode(List.of("hello")));
      assertEquals(503, overloaded.status());
      assertTrue(System.nanoTime() - start >= 900_000_000L, "waited Retry-After (1 s) once");
      // the same through the asynchronous path
      long startAsync = System.nanoTime();
      java.util.concurrent.ExecutionException async =
          assertThrows(
              java.util.concurrent.ExecutionException.class,
              () -> impatient.encodeAsync(List.of("hello")).get(30, TimeUnit.SECONDS));
      assertTrue(async.getCause() instanceof BertOverloadedException, async.toString());
      assertEquals(503, ((BertOverloadedException) async.getCause()).status());
      assertTrue(System.nanoTime() - startAsync >= 900_000_000L, "waited Retry-After once");
    }

    try (Node timesOut =
            start(
                List.of("frontend", "worker"),
                Map.of("bert-serving.frontend.request-timeout", "300ms"));
        BertClient c = connect(timesOut, 0)) {
      timesOut.server().faults().forEach(f -> f.delay(1500)); // a stalled device
      assertThrows(BertTimeoutException.class, () -> c.encode(List.of("the red dog")));
    }
  }

  @Test
  void tokenVectorsFromANonePoolingServer() throws Exception {
    try (Node none =
            start(
                List.of("frontend", "worker"),
                Map.of("bert-serving.engine.pooling-strategy", "NONE"));
        BertClient c = connect(none, 0)) {
      float[][][] tokens = c.encodeTokens(List.of("hello world", "a"));
      assertEquals(16, tokens[0].length, "padded to max_seq_len");
      assertEquals(0f, tokens[1][5][0], "padding is zero");
      assertThrows(BertClientException.class, () -> client.encodeTokens(List.of("pooled server")));
    }
  }
}

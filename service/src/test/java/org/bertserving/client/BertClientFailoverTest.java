package org.bertserving.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bertserving.client.BertClientContractTest.Node;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP client over several addresses, against real servers (tiny model) on loopback, a port
 * where nothing listens, and a socket that takes a request and closes without answering (a frontend
 * that died mid-flight).
 */
class BertClientFailoverTest {
  private static final List<String> TEXTS = List.of("hello world", "the red dog");
  private static Node first;
  private static Node second;
  private static float[][] expected;
  private ServerSocket dropper;
  private final AtomicInteger dropped = new AtomicInteger();

  @BeforeAll
  static void startNodes() throws Exception {
    first = BertClientContractTest.start(List.of("frontend", "worker"), Map.of());
    second = BertClientContractTest.start(List.of("frontend", "worker"), Map.of());
    try (BertClient c = client(List.of(uri(first)), 0)) {
      expected = c.encode(TEXTS);
    }
  }

  @AfterAll
  static void stopNodes() {
    first.close();
    second.close();
  }

  @AfterEach
  void stopDropper() throws IOException {
    if (dropper != null) {
      dropper.close();
    }
  }

  private static URI uri(Node n) {
    return URI.create("http://127.0.0.1:" + n.httpPort());
  }

  private static BertClient client(List<URI> servers, int retries) {
    return BertClient.builder().http(servers).retries(retries).checkLength(false).build();
  }

  private static long requests(Node n) {
    return n.server().metrics().requests.sum();
  }

  /** A port that refuses connections: bound once, then closed. */
  private static URI refusing() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return URI.create("http://127.0.0.1:" + s.getLocalPort());
    }
  }

  /** A socket that reads the start of each request and closes the connection. */
  private URI dropping() throws IOException {
    dropper = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t =
        new Thread(
            () -> {
              while (!dropper.isClosed()) {
                try (Socket s = dropper.accept()) {
                  s.getInputStream().read(new byte[64]);
                  dropped.incrementAndGet();
                } catch (IOException e) {
                  return; // closed
                }
              }
            });
    t.setDaemon(true);
    t.start();
    return URI.create("http://127.0.0.1:" + dropper.getLocalPort());
  }

  @Test
  void spreadsCallsOverTheServersInTurn() throws Exception {
    long before1 = requests(first);
    long before2 = requests(second);
    try (BertClient c = BertClient.http(List.of(uri(first), uri(second)))) {
      for (int i = 0; i < 6; i++) {
        BertClientContractTest.assertRowsClose(expected, c.encode(TEXTS));
      }
      BertClientContractTest.assertRowsClose(
          expected, c.encodeAsync(TEXTS).get(30, TimeUnit.SECONDS));
      BertClientContractTest.assertRowsClose(
          expected, c.encodeAsync(TEXTS).get(30, TimeUnit.SECONDS));
    }
    // each server also answered the one question on max_seq_len (not counted as a request)
    assertEquals(4, requests(first) - before1);
    assertEquals(4, requests(second) - before2);
  }

  @Test
  void aRequestWhoseServerDroppedItGoesToTheNextAtOnceAndThatServerIsPassedOverAWhile()
      throws Exception {
    long before = requests(first);
    try (BertClient c = client(List.of(dropping(), uri(first)), 0)) {
      for (int i = 0; i < 4; i++) {
        BertClientContractTest.assertRowsClose(expected, c.encode(TEXTS));
      }
      assertEquals(1, dropped.get(), "passed over after it failed once");
      assertEquals(4, requests(first) - before, "each request answered once");
      // and tried again once its while is over, every call still answered
      TestNodes.await(
          () -> {
            assertArrayEquals(expected[0], c.encode(TEXTS)[0], 1e-5f);
            return dropped.get() > 1;
          },
          20,
          "the dropping socket tried again");
      // the same through the asynchronous path
      TestNodes.await(
          () -> {
            assertArrayEquals(
                expected[1], c.encodeAsync(TEXTS).get(30, TimeUnit.SECONDS)[1], 1e-5f);
            return dropped.get() > 2;
          },
          20,
          "the dropping socket tried again by encodeAsync");
    }
  }

  @Test
  void aRefusedConnectionOrA503GoesToTheNextServerWithoutARetry() throws Exception {
    try (Node noWorkers = BertClientContractTest.start(List.of("frontend"), Map.of());
        BertClient c = client(List.of(refusing(), uri(noWorkers), uri(first)), 0)) {
      long before = requests(first);
      long refusedBefore = requests(noWorkers);
      BertClientContractTest.assertRowsClose(expected, c.encode(TEXTS));
      assertEquals(1, requests(noWorkers) - refusedBefore, "asked once, answered 503");
      assertEquals(1, requests(first) - before);
    }
  }

  @Test
  void whenEveryServerFailsTheErrorNamesEachAndItsCause() throws Exception {
    URI refused = refusing();
    try (Node noWorkers = BertClientContractTest.start(List.of("frontend"), Map.of());
        BertClient c = client(List.of(refused, dropping(), uri(noWorkers)), 0)) {
      BertClientException e = assertThrows(BertClientException.class, () -> c.encode(TEXTS));
      String m = e.getMessage();
      assertTrue(m.contains("3 addresses"), m);
      assertTrue(m.contains(refused + "/encode: "), m);
      assertTrue(m.contains("Connection refused"), m);
      assertTrue(m.contains(uri(noWorkers) + "/encode: 503 "), m);
      assertTrue(m.contains("127.0.0.1:" + dropper.getLocalPort() + "/encode: "), m);
      ExecutionException async =
          assertThrows(
              ExecutionException.class, () -> c.encodeAsync(TEXTS).get(30, TimeUnit.SECONDS));
      assertTrue(async.getCause().getMessage().contains("3 addresses"), async.toString());
      // with only 503s left, an overload error that still names each server
      try (Node alsoNoWorkers = BertClientContractTest.start(List.of("frontend"), Map.of());
          BertClient overloaded = client(List.of(uri(noWorkers), uri(alsoNoWorkers)), 0)) {
        BertOverloadedException o =
            assertThrows(BertOverloadedException.class, () -> overloaded.encode(TEXTS));
        assertEquals(503, o.status());
        assertTrue(o.description().contains(uri(noWorkers) + "/encode: 503"), o.description());
        assertTrue(o.description().contains(uri(alsoNoWorkers) + "/encode: 503"), o.description());
      }
    }
  }
}

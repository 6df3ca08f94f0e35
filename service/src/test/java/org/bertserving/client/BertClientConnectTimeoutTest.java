package org.bertserving.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.bertserving.client.BertClientContractTest.Node;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A connection that cannot be made in time (a server cut off by a partition, a host that drops
 * packets) fails over like a refused one: the request never reached a server, so it is safe to send
 * elsewhere. Made real on loopback: a listening socket whose backlog of 1 is full and never
 * accepted, so the kernel drops every further SYN and connects time out.
 */
class BertClientConnectTimeoutTest {
  private static final List<String> TEXTS = List.of("hello world", "the red dog");
  private static Node node;
  private static ServerSocket full;
  private static final List<Socket> queued = new ArrayList<>();
  private static URI blackhole;

  @BeforeAll
  static void start() throws Exception {
    node = BertClientContractTest.start(List.of("frontend", "worker"), Map.of());
    full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    InetSocketAddress address = new InetSocketAddress(full.getInetAddress(), full.getLocalPort());
    // fill the accept queue until a connect times out: from then on every connect does
    for (int i = 0; i < 16; i++) {
      Socket s = new Socket();
      try {
        s.connect(address, 500);
        queued.add(s);
      } catch (SocketTimeoutException e) {
        s.close();
        blackhole = URI.create("http://127.0.0.1:" + full.getLocalPort());
        return;
      }
    }
    throw new IllegalStateException("the accept queue of a backlog-1 socket never filled");
  }

  @AfterAll
  static void stop() throws IOException {
    for (Socket s : queued) {
      s.close();
    }
    full.close();
    node.close();
  }

  private static BertClient client(List<URI> servers, String transport) {
    String before = System.getProperty(HttpBertClient.TRANSPORT_PROPERTY);
    System.setProperty(HttpBertClient.TRANSPORT_PROPERTY, transport);
    try {
      return BertClient.builder()
          .http(servers)
          .retries(0)
          .connectTimeout(Duration.ofSeconds(1))
          .checkLength(false)
          .build();
    } finally {
      if (before == null) {
        System.clearProperty(HttpBertClient.TRANSPORT_PROPERTY);
      } else {
        System.setProperty(HttpBertClient.TRANSPORT_PROPERTY, before);
      }
    }
  }

  private static URI uri() {
    return URI.create("http://127.0.0.1:" + node.httpPort());
  }

  @Test
  void aConnectTimeoutGoesToTheNextServerOnEveryPath() throws Exception {
    for (String transport : List.of("apache", "jdk")) {
      long before = node.server().metrics().requests.sum();
      try (BertClient blocking = client(List.of(blackhole, uri()), transport);
          BertClient async = client(List.of(blackhole, uri()), transport)) {
        float[][] rows = blocking.encode(TEXTS);
        assertEquals(TEXTS.size(), rows.length, transport);
        assertEquals(TEXTS.size(), async.encodeAsync(TEXTS).get(30, TimeUnit.SECONDS).length);
      }
      assertEquals(2, node.server().metrics().requests.sum() - before, "each answered once");
    }
  }

  @Test
  void aServerThatCannotBeConnectedToIsNamedWithTheConnectTimeout() {
    for (String transport : List.of("apache", "jdk")) {
      try (BertClient c = client(List.of(blackhole), transport)) {
        BertClientException e = assertThrows(BertClientException.class, () -> c.encode(TEXTS));
        assertTrue(
            !(e instanceof BertTimeoutException) && e.getMessage().contains(blackhole.toString()),
            transport + ": " + e);
        assertTrue(e.getMessage().contains("connect"), transport + ": " + e);
        ExecutionException async =
            assertThrows(
                ExecutionException.class, () -> c.encodeAsync(TEXTS).get(30, TimeUnit.SECONDS));
        assertTrue(
            !(async.getCause() instanceof BertTimeoutException)
                && async.getCause().getMessage().contains("connect"),
            transport + " async: " + async.getCause());
      }
    }
  }
}

package org.bertserving.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The SDK's own HTTP/1.1 transport against a scripted server on loopback: the framings an HTTP
 * server or a proxy in front of one may answer with, kept-alive connections that the server closed,
 * an answer that never comes, and header lines it must refuse.
 */
class PlainHttpTest {
  /** What the scripted server does with one request on one connection. */
  private interface Script {
    /**
     * @param connection which accepted connection (from 0)
     * @param request the request on that connection (from 0)
     * @return false to close the connection after this
     */
    boolean answer(int connection, int request, String head, OutputStream out) throws IOException;
  }

  private final List<String> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private ServerSocket server;
  private PlainHttp http;

  private URI serve(Script script) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket s = server.accept();
                  sockets.add(s);
                  int c = connections.getAndIncrement();
                  Thread t = new Thread(() -> converse(s, c, script));
                  t.setDaemon(true);
                  t.start();
                } catch (IOException e) {
                  return; // closed
                }
              }
            });
    acceptor.setDaemon(true);
    acceptor.start();
    URI base = URI.create("http://127.0.0.1:" + server.getLocalPort());
    http = new PlainHttp(base, Duration.ofSeconds(5), "Accept: application/json\r\n");
    return base;
  }

  private void converse(Socket s, int connection, Script script) {
    try (s) {
      InputStream in = s.getInputStream();
      for (int r = 0; ; r++) {
        String head = head(in);
        if (head == null) {
          return;
        }
        int length = 0;
        for (String line : head.split("\r\n")) {
          if (line.toLowerCase().startsWith("content-length:")) {
            length = Integer.parseInt(line.substring(15).trim());
          }
        }
        // a body larger than a server would take is left unread, as such a server leaves it
        String body =
            length > (1 << 20) ? "" : new String(in.readNBytes(length), StandardCharsets.UTF_8);
        requests.add(head + body);
        if (!script.answer(connection, r, head, s.getOutputStream())) {
          return;
        }
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  private static String head(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int matched = 0;
    for (int ch; (ch = in.read()) != -1; ) {
      b.write(ch);
      matched = ch == "\r\n\r\n".charAt(matched) ? matched + 1 : ch == '\r' ? 1 : 0;
      if (matched == 4) {
        return b.toString(StandardCharsets.ISO_8859_1);
      }
    }
    return null;
  }

  /** The same answer to every request, the connection kept (and the rest of a body unread). */
  private static Script always(String answer) {
    return (c, r, head, out) -> {
      write(out, answer);
      return true;
    };
  }

  private static void write(OutputStream out, String s) throws IOException {
    out.write(s.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  @AfterEach
  void stop() throws IOException {
    if (http != null) {
      http.close();
    }
    if (server != null) {
      server.close();
    }
    for (Socket s : sockets) {
      s.close();
    }
  }

  private String text(PlainHttp.Answer a) {
    return new String(a.body(), StandardCharsets.UTF_8);
  }

  @Test
  void readsEachFramingAndKeepsTheConnectionOnlyWhenItMay() throws Exception {
    URI base =
        serve(
            (c, r, head, out) -> {
              switch (r) {
                case 0 ->
                    write(
                        out,
                        "HTTP/1.1 100 Continue\r\n\r\n"
                            + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Twice: a\r\nx-twice: b\r\n\r\nfirst");
                case 1 ->
                    write(
                        out,
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "3;ext=1\r\nsec\r\n3\r\nond\r\n0\r\nTrailer: t\r\n\r\n");
                default -> {
                  write(out, "HTTP/1.0 200 OK\r\n\r\nthird, till the end");
                  return false;
                }
              }
              return true;
            });
    URI uri = base.resolve("/encode");
    PlainHttp.Answer first =
        http.exchange(uri, "{}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5));
    assertEquals(200, first.status());
    assertEquals("first", text(first));
    assertEquals("a, b", first.header("x-twice"));
    assertEquals("second", text(http.exchange(uri, null, Duration.ofSeconds(5))));
    assertEquals("third, till the end", text(http.exchange(uri, null, Duration.ofSeconds(5))));
    assertEquals(1, connections.get(), "kept alive through the interim, sized and chunked answers");
    assertEquals("first", text(http.exchange(uri, null, Duration.ofSeconds(5))));
    assertEquals(2, connections.get(), "a new connection after the one closed by its answer");

    String post = requests.get(0);
    assertTrue(post.startsWith("POST /encode HTTP/1.1\r\n"), post);
    assertTrue(post.contains("\r\nHost: 127.0.0.1:" + server.getLocalPort() + "\r\n"), post);
    assertTrue(post.contains("\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"), post);
    assertTrue(post.endsWith("\r\n\r\n{}"), post);
    assertTrue(requests.get(1).startsWith("GET /encode HTTP/1.1\r\n"), requests.get(1));
  }

  @Test
  void aKeptAliveConnectionTheServerClosedOrThatHoldsStrayBytesIsLeftForANewOne() throws Exception {
    URI base =
        serve(
            (c, r, head, out) -> {
              if (c == 0 && r == 1) {
                return false; // took the second request, closed without a word (an idle timeout)
              }
              // the second connection's answer has a byte more than it says
              write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nc" + c + (c == 1 ? "X" : ""));
              return c != 2; // the third connection ends after its answer, unannounced
            });
    URI uri = base.resolve("/status/server");
    Duration t = Duration.ofSeconds(5);
    assertEquals("c0", text(http.exchange(uri, null, t)));
    assertEquals("c1", text(http.exchange(uri, null, t)), "sent again on a new connection");
    assertEquals("c2", text(http.exchange(uri, null, t)), "not after the stray byte");
    assertEquals("c3", text(http.exchange(uri, null, t)), "not on the one the server closed");
    assertEquals(4, connections.get());
    assertEquals(5, requests.size(), "each request once, the one lost with its connection twice");
  }

  @Test
  void aBodyTheServerRefusesBeforeReadingItGetsTheServersAnswer() throws Exception {
    URI base =
        serve(
            always(
                "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n"
                    + "Content-Length: 9\r\n\r\ntoo large"));
    byte[] huge = new byte[64 << 20];
    PlainHttp.Answer a = http.exchange(base.resolve("/encode"), huge, Duration.ofSeconds(20));
    assertEquals(413, a.status());
    assertEquals("too large", text(a));
  }

  @Test
  void afterCloseEachExchangeHasAConnectionOfItsOwn() throws Exception {
    URI base = serve(always("HTTP/1.1 204 No Content\r\n\r\n"));
    URI uri = base.resolve("/status/server");
    assertEquals(204, http.exchange(uri, null, Duration.ofSeconds(5)).status());
    assertEquals(0, http.exchange(uri, null, Duration.ofSeconds(5)).body().length);
    assertEquals(1, connections.get(), "kept alive after a 204");
    http.close();
    assertEquals(204, http.exchange(uri, null, Duration.ofSeconds(5)).status());
    assertEquals(204, http.exchange(uri, null, Duration.ofSeconds(5)).status());
    assertEquals(3, connections.get());
    org.awaitility.Awaitility.await("the client closed each")
        .atMost(Duration.ofSeconds(5))
        .until(() -> sockets.stream().allMatch(Socket::isClosed));
  }

  @Test
  void aNewConnectionThatEndsWithoutAnAnswerFails() throws Exception {
    URI base = serve((c, r, head, out) -> false);
    IOException e =
        assertThrows(
            IOException.class,
            () -> http.exchange(base.resolve("/encode"), new byte[0], Duration.ofSeconds(5)));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
    assertEquals(
        1, requests.size(), "not sent again by the transport: the caller's retries decide");
  }

  @Test
  void anAnswerThatNeverComesEndsAtTheDeadline() throws Exception {
    URI base = serve((c, r, head, out) -> true);
    long start = System.nanoTime();
    assertThrows(
        HttpTimeoutException.class,
        () -> http.exchange(base.resolve("/encode"), new byte[0], Duration.ofMillis(300)));
    long took = (System.nanoTime() - start) / 1_000_000;
    assertTrue(took >= 290 && took < 3000, took + " ms");
  }

  @Test
  void anAnswerItCannotReadIsAnError() throws Exception {
    URI base =
        serve(
            (c, r, head, out) -> {
              write(
                  out,
                  c == 0
                      ? "SSH-2.0-OpenSSH\r\n\r\n"
                      : "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n");
              return true;
            });
    URI uri = base.resolve("/encode");
    IOException notHttp =
        assertThrows(IOException.class, () -> http.exchange(uri, null, Duration.ofSeconds(5)));
    assertTrue(notHttp.getMessage().contains("SSH-2.0"), notHttp.getMessage());
    IOException badLength =
        assertThrows(IOException.class, () -> http.exchange(uri, null, Duration.ofSeconds(5)));
    assertTrue(badLength.getMessage().contains("Content-Length"), badLength.getMessage());
  }

  @Test
  void theClientsRetriesAndDecodingWorkOverIt() throws Exception {
    URI base =
        serve(
            (c, r, head, out) -> {
              if (r == 0) {
                write(
                    out,
                    "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n");
                return true;
              }
              ByteArrayOutputStream gz = new ByteArrayOutputStream();
              try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(gz)) {
                z.write("{\"result\": [[0.5, -2]]}".getBytes(StandardCharsets.UTF_8));
              }
              write(
                  out,
                  "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: "
                      + gz.size()
                      + "\r\n\r\n");
              out.write(gz.toByteArray());
              return true;
            });
    try (BertClient client =
        BertClient.builder().http(base).checkLength(false).header("X-Team", "search").build()) {
      assertArrayEquals(new float[] {0.5f, -2f}, client.encode(List.of("a text"))[0]);
    }
    assertEquals(2, requests.size());
    assertTrue(requests.get(1).contains("\r\nX-Team: search\r\n"), requests.get(1));
    assertTrue(requests.get(1).contains("\r\nAccept-Encoding: gzip\r\n"), requests.get(1));
    assertTrue(
        requests.get(1).contains("\r\nUser-Agent: bert-serving-client\r\n"),
        "the SDK's own transport, not the JDK client: " + requests.get(1));
  }

  @Test
  void anApplicationsUserAgentReplacesTheClients() throws Exception {
    URI base =
        serve(
            always("HTTP/1.1 200 OK\r\nContent-Length: 27\r\n\r\n{\"max_seq_len\": 25, \"x\": 1}"));
    try (BertClient client =
        BertClient.builder().http(base).header("user-agent", "search-app/2").build()) {
      assertEquals(25, client.serverStatus().maxSeqLen());
    }
    String head = requests.get(0);
    assertTrue(head.contains("\r\nuser-agent: search-app/2\r\n"), head);
    assertEquals(1, head.toLowerCase().split("user-agent:", -1).length - 1, head);
  }

  @Test
  void headersTheClientOwnsOrThatCouldSplitARequestAreRefused() {
    List<String[]> refused = new ArrayList<>();
    refused.add(new String[] {"Host", "elsewhere"});
    refused.add(new String[] {"content-length", "0"});
    refused.add(new String[] {"X-Split", "a\r\nX-Injected: b"});
    refused.add(new String[] {"Bad Name", "x"});
    for (String[] h : refused) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  BertClient.builder()
                      .http(URI.create("http://127.0.0.1:9"))
                      .header(h[0], h[1])
                      .build(),
              h[0]);
      assertTrue(e.getMessage().contains(h[0]), e.getMessage());
    }
  }
}

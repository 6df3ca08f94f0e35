package org.bertserving.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP client against a scripted HTTP server on loopback (the JDK's): what it sends (Accept,
 * headers, API key), the answers it reads (.npy, gzip, JSON), its checks at build() and what a
 * built client keeps. The service's tests run it against real servers.
 */
class HttpBertClientTest {
  /** One answer of the scripted server. */
  private interface Handler {
    void handle(HttpExchange exchange, int request) throws Exception;
  }

  private final List<String> requests = new CopyOnWriteArrayList<>();
  private HttpServer server;

  private URI serve(Handler encode, Handler status) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    server.setExecutor(Executors.newCachedThreadPool());
    for (String path : List.of("/encode", "/status/server")) {
      Handler h = path.equals("/encode") ? encode : status;
      server.createContext(
          path,
          x -> {
            StringBuilder seen = new StringBuilder(x.getRequestMethod() + " " + path + "\n");
            x.getRequestHeaders()
                .forEach(
                    (k, v) ->
                        v.forEach(value -> seen.append(k).append(": ").append(value).append('\n')));
            seen.append(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            requests.add(seen.toString());
            try {
              h.handle(x, requests.size() - 1);
            } catch (Exception e) {
              x.sendResponseHeaders(500, -1);
            } finally {
              x.close();
            }
          });
    }
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  private static void answer(HttpExchange x, int status, String type, byte[] body, boolean gzip)
      throws IOException {
    x.getResponseHeaders().set("Content-Type", type);
    if (gzip) {
      ByteArrayOutputStream gz = new ByteArrayOutputStream();
      try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
        z.write(body);
      }
      body = gz.toByteArray();
      x.getResponseHeaders().set("Content-Encoding", "gzip");
    }
    x.sendResponseHeaders(status, body.length);
    x.getResponseBody().write(body);
  }

  private static final Handler STATUS =
      (x, r) ->
          answer(
              x,
              200,
              "application/json",
              "{\"max_seq_len\": 25}".getBytes(StandardCharsets.UTF_8),
              false);

  private static final byte[] TWO_BY_THREE = NpyTest.npy(NpyTest.dict("2, 3"), NpyTest.count(6), 0);

  @Test
  void asksForNpyReadsItGzippedOrNotAndAsksForJsonWithTokens() throws Exception {
    URI base =
        serve(
            (x, r) -> {
              String seen = requests.get(r);
              if (seen.contains("\"show_tokens\":true")) {
                answer(
                    x,
                    200,
                    "application/json",
                    "{\"result\": [[1, 2]], \"tokens\": [[\"[CLS]\"]]}"
                        .getBytes(StandardCharsets.UTF_8),
                    false);
              } else {
                answer(x, 200, "application/x-npy", TWO_BY_THREE, r % 2 == 0);
              }
            },
            STATUS);
    try (BertClient client =
        BertClient.builder().http(base).apiKey("s3cret").header("X-Team", "search").build()) {
      for (int i = 0; i < 3; i++) {
        float[][] v = client.encode(List.of("a text", "another"));
        assertArrayEquals(new float[] {-1.5f, -1, -0.5f}, v[1]);
      }
      assertArrayEquals(
          new float[] {-3, -2.5f, -2},
          client.encodeAsync(List.of("a", "b")).get(10, TimeUnit.SECONDS)[0]);
      EncodeResult withTokens = client.encode(List.of("a"), EncodeOptions.withTokens());
      assertEquals(List.of("[CLS]"), withTokens.tokens().get(0));
    }
    String status = requests.stream().filter(r -> r.startsWith("GET /status")).findFirst().get();
    assertTrue(status.contains("Accept: application/json\n"), status);
    List<String> encodes = requests.stream().filter(r -> r.startsWith("POST")).toList();
    assertEquals(5, encodes.size());
    for (String r : encodes) {
      boolean tokens = r.contains("\"show_tokens\":true");
      assertTrue(
          r.contains(
              tokens
                  ? "Accept: application/json\n"
                  : "Accept: application/x-npy, application/json;q=0.9\n"),
          r);
      assertTrue(r.contains("Accept-encoding: gzip\n"), r);
      assertTrue(r.contains("Authorization: Bearer s3cret\n"), r);
      assertTrue(r.contains("X-team: search\n"), r);
      assertTrue(r.contains("User-agent: bert-serving-client\n"), r);
    }
  }

  @Test
  void aMalformedNpyAnswerIsAClearError() throws Exception {
    byte[] truncated = java.util.Arrays.copyOf(TWO_BY_THREE, TWO_BY_THREE.length - 4);
    URI base = serve((x, r) -> answer(x, 200, "application/x-npy", truncated, false), STATUS);
    try (BertClient client = BertClient.builder().http(base).build()) {
      BertClientException e =
          assertThrows(BertClientException.class, () -> client.encode(List.of("a")));
      assertTrue(e.getMessage().contains("malformed .npy answer: shape [2, 3]"), e.getMessage());
    }
  }

  @Test
  void retriesA503AfterRetryAfterAndAnApplicationsUserAgentReplacesTheClients() throws Exception {
    URI base =
        serve(
            (x, r) -> {
              if (r == 0) {
                x.getResponseHeaders().set("Retry-After", "0");
                answer(
                    x,
                    503,
                    "application/json",
                    "{\"status\": 503, \"type\": \"no_worker\", \"description\": \"none\"}"
                        .getBytes(StandardCharsets.UTF_8),
                    false);
              } else {
                answer(
                    x,
                    200,
                    "application/json",
                    "{\"result\": [[0.5, -2]]}".getBytes(StandardCharsets.UTF_8),
                    true);
              }
            },
            STATUS);
    try (BertClient client =
        BertClient.builder()
            .http(base)
            .checkLength(false)
            .header("user-agent", "search-app/2")
            .build()) {
      assertArrayEquals(new float[] {0.5f, -2f}, client.encode(List.of("a text"))[0]);
    }
    assertEquals(2, requests.size());
    assertTrue(requests.get(1).contains("User-agent: search-app/2\n"), requests.get(1));
    assertFalse(requests.get(1).contains("bert-serving-client"), requests.get(1));
  }

  @Test
  void aBuiltClientKeepsItsSettings() throws Exception {
    URI base = serve((x, r) -> answer(x, 200, "application/x-npy", TWO_BY_THREE, false), STATUS);
    BertClient.Builder builder = BertClient.builder().http(base).header("X-Version", "1");
    try (BertClient client = builder.build()) {
      builder.http(URI.create("http://127.0.0.1:9")).header("X-Version", "2").checkLength(false);
      client.encode(List.of("a"));
    }
    assertTrue(requests.get(0).startsWith("GET /status"), "still checks lengths");
    assertTrue(requests.get(1).contains("X-version: 1\n"), requests.get(1));
  }

  @Test
  void encodeAsyncNeverBlocksItsCallerEvenOnItsFirstCall() throws Exception {
    CountDownLatch statusMayAnswer = new CountDownLatch(1);
    URI base =
        serve(
            (x, r) -> answer(x, 200, "application/x-npy", TWO_BY_THREE, false),
            (x, r) -> {
              statusMayAnswer.await(30, TimeUnit.SECONDS);
              STATUS.handle(x, r);
            });
    try (BertClient client = BertClient.builder().http(base).build()) {
      // returned while the server still holds the answer on max_seq_len
      CompletableFuture<float[][]> vectors =
          CompletableFuture.supplyAsync(() -> client.encodeAsync(List.of("a", "b")))
              .get(10, TimeUnit.SECONDS);
      assertFalse(vectors.isDone());
      statusMayAnswer.countDown();
      assertEquals(2, vectors.get(10, TimeUnit.SECONDS).length);
    }
  }

  @Test
  void headersTheClientOwnsOrThatCouldSplitARequestAreRefusedAtBuild() {
    String[][] refused = {
      {"Host", "elsewhere"},
      {"content-length", "0"},
      {"Accept", "text/plain"},
      {"Via", "a proxy"},
      {"X-Split", "a\r\nX-Injected: b"},
      {"Bad Name", "x"},
    };
    for (String[] h : refused) {
      BertClient.Builder b = BertClient.builder().http(URI.create("http://127.0.0.1:9"));
      b.header(h[0], h[1]);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build, h[0]);
      assertTrue(e.getMessage().contains(h[0]), e.getMessage());
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> BertClient.builder().http(URI.create("ftp://127.0.0.1:9")));
    assertThrows(IllegalArgumentException.class, () -> BertClient.builder().http(List.of()));
  }
}

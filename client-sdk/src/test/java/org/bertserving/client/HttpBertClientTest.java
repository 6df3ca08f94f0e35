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
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
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
    // the scoring routes answer as /encode does; a request's first line names its route
    for (String path : List.of("/encode", "/v1/rerank", "/predict", "/status/server")) {
      Handler h = path.equals("/status/server") ? status : encode;
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

  /**
   * Sends the headers of an answer, then a byte of its body every 0.1 s for 15 s: whether the
   * client closed the connection meanwhile.
   */
  private static boolean stalled(HttpExchange x) throws IOException, InterruptedException {
    x.getResponseHeaders().set("Content-Type", "application/x-npy");
    x.sendResponseHeaders(200, 0);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    try {
      while (System.nanoTime() < until) {
        x.getResponseBody().write(0);
        x.getResponseBody().flush();
        Thread.sleep(100);
      }
      return false;
    } catch (IOException e) {
      return true;
    }
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
    CountDownLatch statusAnswered = new CountDownLatch(1); // asked beside the first call
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
            (x, r) -> {
              STATUS.handle(x, r);
              statusAnswered.countDown();
            });
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
    assertTrue(statusAnswered.await(10, TimeUnit.SECONDS), "the status was asked");
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

  /**
   * A server started with {@code -pooling_strategy NONE} answers token vectors {@code [B, T, D]}:
   * {@code encode} says to use {@code encodeTokens}, in .npy and in JSON, blocking or not.
   */
  @Test
  void encodeOnAServerThatDoesNotPoolSaysToUseEncodeTokens() throws Exception {
    byte[] tokenVectors = NpyTest.npy(NpyTest.dict("2, 4, 3"), NpyTest.count(24), 0);
    byte[] tokenJson =
        "{\"result\": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]}".getBytes(StandardCharsets.UTF_8);
    URI base =
        serve(
            (x, r) -> {
              if (requests.get(r).contains("\"json\"")) {
                answer(x, 200, "application/json", tokenJson, false);
              } else {
                answer(x, 200, "application/x-npy", tokenVectors, false);
              }
            },
            STATUS);
    try (BertClient client = BertClient.builder().http(base).checkLength(false).build()) {
      for (List<String> texts : List.of(List.of("npy", "b"), List.of("json", "b"))) {
        BertClientException e = assertThrows(BertClientException.class, () -> client.encode(texts));
        assertTrue(e.getMessage().contains("use encodeTokens()"), e.getMessage());
        java.util.concurrent.ExecutionException async =
            assertThrows(
                java.util.concurrent.ExecutionException.class,
                () -> client.encodeAsync(texts).get(10, TimeUnit.SECONDS));
        assertTrue(
            async.getCause() instanceof BertClientException
                && async.getCause().getMessage().contains("use encodeTokens()"),
            async.getCause().toString());
        assertEquals(2, client.encodeTokens(texts).length);
      }
      assertEquals(4, client.encodeTokens(List.of("npy", "b"))[1].length);
    }
  }

  /**
   * The scoring routes answer errors in their family's shape, OpenAI's on {@code /v1/rerank},
   * text-embeddings-inference's on {@code /predict}: the failure has their type and message, not
   * the raw JSON.
   */
  @Test
  void rerankAndClassifyErrorsHaveTheirTypeAndDescription() throws Exception {
    URI base =
        serve(
            (x, r) -> {
              if (requests.get(r).startsWith("POST /v1/rerank")) {
                answer(
                    x,
                    400,
                    "application/json",
                    ("{\"error\": {\"message\": \"the model is not a reranker\","
                            + " \"type\": \"invalid_request_error\", \"param\": null,"
                            + " \"code\": \"unsupported\"}}")
                        .getBytes(StandardCharsets.UTF_8),
                    false);
              } else {
                answer(
                    x,
                    424,
                    "application/json",
                    "{\"error\": \"the model is not a classifier\", \"error_type\": \"backend\"}"
                        .getBytes(StandardCharsets.UTF_8),
                    false);
              }
            },
            STATUS);
    try (BertClient client = BertClient.builder().http(base).checkLength(false).build()) {
      BertServerException rerank =
          assertThrows(
              BertServerException.class, () -> client.rerank("q", List.of("a", "b"), null));
      assertEquals(400, rerank.status());
      assertEquals("unsupported", rerank.type());
      assertEquals("the model is not a reranker", rerank.description());
      BertServerException classify =
          assertThrows(BertServerException.class, () -> client.classify(List.of("a")));
      assertEquals(424, classify.status());
      assertEquals("backend", classify.type());
      assertEquals("the model is not a classifier", classify.description());
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
    CountDownLatch statusAsked = new CountDownLatch(1);
    URI base =
        serve(
            (x, r) -> answer(x, 200, "application/x-npy", TWO_BY_THREE, false),
            (x, r) -> {
              statusAsked.countDown();
              STATUS.handle(x, r);
            });
    BertClient.Builder builder = BertClient.builder().http(base).header("X-Version", "1");
    try (BertClient client = builder.build()) {
      builder.http(URI.create("http://127.0.0.1:9")).header("X-Version", "2").checkLength(false);
      client.encode(List.of("a", "b"));
    }
    String encode = requests.stream().filter(r -> r.startsWith("POST")).findFirst().get();
    assertTrue(encode.contains("X-version: 1\n"), encode);
    assertTrue(statusAsked.await(10, TimeUnit.SECONDS), "still checks lengths");
  }

  /**
   * A server whose accept queue is full (a connection never made) is passed over within the call's
   * timeout even when the connect timeout, at its default 10 s, is longer than that timeout.
   */
  @Test
  void aServerThatCannotBeConnectedToIsPassedOverWithinTheTimeout() throws Exception {
    URI good = serve((x, r) -> answer(x, 200, "application/x-npy", TWO_BY_THREE, false), STATUS);
    List<Socket> queued = new ArrayList<>();
    try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      // it never accepts: once its queue is full, a new connection waits unanswered
      for (int i = 0; i < 16; i++) {
        Socket s = new Socket();
        try {
          s.connect(full.getLocalSocketAddress(), 500);
          queued.add(s);
        } catch (SocketTimeoutException e) {
          s.close();
          break;
        }
      }
      URI hung = URI.create("http://127.0.0.1:" + full.getLocalPort());
      try (BertClient client =
          BertClient.builder()
              .http(List.of(hung, good))
              .timeout(Duration.ofSeconds(2))
              .checkLength(false)
              .retries(0)
              .build()) {
        for (int call = 0; call < 2; call++) { // one of them starts at the full server
          assertEquals(2, client.encode(List.of("a", "b")).length, "call " + call);
        }
      }
    } finally {
      for (Socket s : queued) {
        s.close();
      }
    }
  }

  /** An IPv6 address as the host: the client is for {@code http://[::1]:port}. */
  @Test
  void anIpv6HostIsAnAddress() {
    try (BertClient client = BertClient.http("::1", 9)) {
      BertClientException e =
          assertThrows(BertClientException.class, () -> client.encode(List.of("a")));
      assertTrue(e.getMessage().contains("[::1]:9"), e.getMessage());
    }
  }

  @Test
  void anAnswerWithMoreOrFewerRowsThanTextsIsAnErrorNotShiftedVectors() throws Exception {
    URI base = serve((x, r) -> answer(x, 200, "application/x-npy", TWO_BY_THREE, false), STATUS);
    try (BertClient client = BertClient.builder().http(base).checkLength(false).build()) {
      BertClientException e =
          assertThrows(BertClientException.class, () -> client.encode(List.of("a", "b", "c")));
      assertTrue(e.getMessage().contains("answered 2 rows for 3 inputs"), e.getMessage());
      java.util.concurrent.ExecutionException async =
          assertThrows(
              java.util.concurrent.ExecutionException.class,
              () -> client.encodeAsync(List.of("a")).get(10, TimeUnit.SECONDS));
      assertTrue(
          async.getCause().getMessage().contains("answered 2 rows for 1 inputs"),
          async.getCause().toString());
      // a corpus in batches of 3: the first batch's answer is short, so the stream stops there
      assertThrows(
          BertClientException.class,
          () -> client.encodeStream(java.util.stream.Stream.of("a", "b", "c", "d"), 3, 2).count());
    }
  }

  @Test
  void closingAStreamEarlyClosesItsTextsAndCancelsWhatIsInFlight() throws Exception {
    CountDownLatch aborted = new CountDownLatch(3);
    URI base =
        serve(
            (x, r) -> {
              if (requests.get(r).contains("\"t0\"")) {
                answer(x, 200, "application/x-npy", TWO_BY_THREE, false);
                return;
              }
              // every later batch: headers, then a body that takes its time
              if (stalled(x)) {
                aborted.countDown();
              }
            },
            STATUS);
    java.util.concurrent.atomic.AtomicBoolean closed =
        new java.util.concurrent.atomic.AtomicBoolean();
    try (BertClient client = BertClient.builder().http(base).checkLength(false).build()) {
      java.util.stream.Stream<String> texts =
          java.util.stream.Stream.iterate(0, i -> i + 1)
              .limit(1000)
              .map(i -> "t" + i)
              .onClose(() -> closed.set(true));
      try (java.util.stream.Stream<float[]> vectors = client.encodeStream(texts, 2, 4)) {
        assertEquals(3, vectors.findFirst().orElseThrow().length);
      }
      assertTrue(closed.get(), "the texts' stream (a file's lines, say) is closed with it");
      assertTrue(
          aborted.await(10, TimeUnit.SECONDS),
          "the batches in flight were aborted, their connections closed");
    }
  }

  /**
   * A call whose caller cancelled it, or whose stream was closed early, ends there: its exchange is
   * aborted and its texts are not sent again (an abort the client made itself is no failure of the
   * server's to retry after).
   */
  @Test
  void aCancelledCallOrAClosedStreamIsNotSentAgain() throws Exception {
    java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
    CountDownLatch sentAgain = new CountDownLatch(1);
    CountDownLatch asyncSent = new CountDownLatch(1);
    // the exchanges held unanswered (the async call's, the stream's in flight: two or three, as the
    // stream had sent its next batch or not when it was closed) and those of them aborted
    java.util.concurrent.atomic.AtomicInteger held =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger aborted =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.regex.Pattern texts = java.util.regex.Pattern.compile("\"texts\":\\[[^]]*]");
    URI base =
        serve(
            (x, r) -> {
              java.util.regex.Matcher m = texts.matcher(requests.get(r));
              String sent = m.find() ? m.group() : requests.get(r);
              if (!seen.add(sent)) {
                sentAgain.countDown();
              }
              if (sent.contains("\"t0\"")) {
                answer(x, 200, "application/x-npy", TWO_BY_THREE, false);
                return;
              }
              if (sent.contains("\"one\"")) {
                asyncSent.countDown();
              }
              held.incrementAndGet();
              if (stalled(x)) {
                aborted.incrementAndGet();
              }
            },
            STATUS);
    try (BertClient client =
        BertClient.builder()
            .http(base)
            .checkLength(false)
            .backoff(Duration.ZERO) // a retry would follow the abort at once
            .build()) {
      CompletableFuture<float[][]> call = client.encodeAsync(List.of("one", "two"));
      assertTrue(asyncSent.await(10, TimeUnit.SECONDS), "the call was sent");
      assertTrue(call.cancel(true));
      java.util.stream.Stream<String> corpus =
          java.util.stream.Stream.of("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7");
      try (java.util.stream.Stream<float[]> vectors = client.encodeStream(corpus, 2, 3)) {
        assertEquals(3, vectors.findFirst().orElseThrow().length);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!(held.get() >= 3 && aborted.get() == held.get()) && System.nanoTime() < deadline) {
        Thread.sleep(20); // polls the condition
      }
      assertTrue(
          held.get() >= 3 && aborted.get() == held.get(),
          "every exchange in flight was aborted: " + aborted + " of " + held);
      assertFalse(
          sentAgain.await(2, TimeUnit.SECONDS), "texts were sent again: " + requests.size());
    }
  }

  /**
   * A thread that waits in a stream for a server that takes its time ends its wait when it is
   * interrupted: a failure that says so, its interrupt kept, the exchange aborted.
   */
  @Test
  void anInterruptEndsAStreamsWaitAndAbortsItsExchange() throws Exception {
    CountDownLatch sent = new CountDownLatch(1);
    CompletableFuture<Boolean> aborted = new CompletableFuture<>();
    URI base =
        serve(
            (x, r) -> {
              sent.countDown();
              aborted.complete(stalled(x));
            },
            STATUS);
    try (BertClient client =
        BertClient.builder()
            .http(base)
            .checkLength(false)
            .timeout(Duration.ofSeconds(60))
            .build()) {
      CompletableFuture<Throwable> ended = new CompletableFuture<>();
      Thread reader =
          new Thread(
              () -> {
                try (java.util.stream.Stream<float[]> vectors =
                    client.encodeStream(java.util.stream.Stream.of("a", "b"), 2, 1)) {
                  vectors.findFirst();
                  ended.complete(new AssertionError("answered"));
                } catch (Throwable t) {
                  ended.complete(
                      Thread.currentThread().isInterrupted()
                          ? t
                          : new AssertionError("the interrupt was not kept", t));
                }
              });
      reader.start();
      assertTrue(sent.await(10, TimeUnit.SECONDS), "the batch was sent");
      reader.interrupt();
      Throwable failure = ended.get(10, TimeUnit.SECONDS);
      assertTrue(
          failure instanceof BertClientException
              && failure.getCause() instanceof InterruptedException,
          failure.toString());
      assertTrue(aborted.get(10, TimeUnit.SECONDS), "the exchange was aborted");
    }
  }

  @Test
  void anAsynchronousCallPastItsTimeoutClosesItsConnection() throws Exception {
    CompletableFuture<Long> connectionGone = new CompletableFuture<>();
    URI base =
        serve(
            (x, r) -> {
              // headers at once, then a body that never ends: a stalled proxy or server
              if (stalled(x)) {
                connectionGone.complete(System.nanoTime());
              }
            },
            STATUS);
    try (BertClient client =
        BertClient.builder()
            .http(base)
            .checkLength(false)
            .retries(0)
            .timeout(Duration.ofSeconds(1))
            .build()) {
      java.util.concurrent.ExecutionException e =
          assertThrows(
              java.util.concurrent.ExecutionException.class,
              () -> client.encodeAsync(List.of("a")).get(10, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof BertTimeoutException, e.getCause().toString());
      long failedAt = System.nanoTime();
      long gone = connectionGone.get(10, TimeUnit.SECONDS);
      assertTrue(
          gone - failedAt < TimeUnit.SECONDS.toNanos(5),
          "the exchange was aborted, its connection closed");
    }
  }

  /** A server on loopback whose {@code /encode} answers as {@code encode} says. */
  private static HttpServer encoding(Handler encode) throws IOException {
    HttpServer s =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    s.setExecutor(Executors.newCachedThreadPool());
    s.createContext(
        "/encode",
        x -> {
          try {
            x.getRequestBody().readAllBytes();
            encode.handle(x, 0);
          } catch (Exception e) {
            x.sendResponseHeaders(500, -1);
          } finally {
            x.close();
          }
        });
    s.start();
    return s;
  }

  /**
   * Of two servers, one stops answering on its kept-alive connections (a GC pause, SIGSTOP, a
   * partition): the call that waited for it times out, and the next calls go to the other server
   * instead of each waiting its whole timeout there.
   */
  @Test
  void aServerThatStopsAnsweringIsPassedOverAfterOneTimeout() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean hung =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger heldThere =
        new java.util.concurrent.atomic.AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    HttpServer stops =
        encoding(
            (x, r) -> {
              if (hung.get()) {
                heldThere.incrementAndGet();
                release.await(30, TimeUnit.SECONDS);
              }
              answer(x, 200, "application/x-npy", TWO_BY_THREE, false);
            });
    HttpServer answers =
        encoding((x, r) -> answer(x, 200, "application/x-npy", TWO_BY_THREE, false));
    try (BertClient client =
        BertClient.builder()
            .http(
                List.of(
                    URI.create("http://127.0.0.1:" + stops.getAddress().getPort()),
                    URI.create("http://127.0.0.1:" + answers.getAddress().getPort())))
            .checkLength(false)
            .timeout(Duration.ofSeconds(1))
            .build()) {
      for (int i = 0; i < 4; i++) { // kept-alive connections to both
        client.encode(List.of("a", "b"));
      }
      hung.set(true);
      int timedOut = 0;
      for (int i = 0; i < 2; i++) { // one of two calls starts at the server that stopped
        try {
          client.encode(List.of("a", "b"));
        } catch (BertTimeoutException e) {
          timedOut++;
        }
      }
      assertEquals(1, timedOut);
      for (int i = 0; i < 4; i++) {
        assertEquals(2, client.encode(List.of("a", "b")).length, "call " + i);
      }
      assertEquals(1, heldThere.get(), "the server that stopped was passed over");
    } finally {
      release.countDown();
      stops.stop(0);
      answers.stop(0);
    }
  }

  @Test
  void aClosedClientRefusesEveryCallByName() throws Exception {
    URI base = serve((x, r) -> answer(x, 200, "application/x-npy", TWO_BY_THREE, false), STATUS);
    BertClient client = BertClient.builder().http(base).checkLength(false).build();
    client.close();
    BertClientException e =
        assertThrows(BertClientException.class, () -> client.encode(List.of("a", "b")));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
    java.util.concurrent.ExecutionException async =
        assertThrows(
            java.util.concurrent.ExecutionException.class,
            () -> client.encodeAsync(List.of("a", "b")).get(10, TimeUnit.SECONDS));
    assertTrue(async.getCause().getMessage().contains("closed"), async.getCause().toString());
    assertTrue(requests.isEmpty(), "nothing was sent: " + requests);
  }

  /** A blocking call whose retry comes after close() ends with the client's closed error. */
  @Test
  void aBlockingCallClosedUnderItEndsWithTheClosedError() throws Exception {
    CountDownLatch refused = new CountDownLatch(1);
    URI base =
        serve(
            (x, r) -> {
              x.getResponseHeaders().set("Retry-After", "1");
              answer(
                  x,
                  503,
                  "application/json",
                  "{\"status\": 503, \"type\": \"no_worker\", \"description\": \"none yet\"}"
                      .getBytes(StandardCharsets.UTF_8),
                  false);
              refused.countDown();
            },
            STATUS);
    BertClient client = BertClient.builder().http(base).checkLength(false).retries(3).build();
    CompletableFuture<Void> closing =
        CompletableFuture.runAsync(
            () -> {
              try {
                if (refused.await(10, TimeUnit.SECONDS)) { // the call waits a second to retry
                  client.close();
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    BertClientException e =
        assertThrows(BertClientException.class, () -> client.encode(List.of("a")));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
    closing.get(10, TimeUnit.SECONDS);
    assertEquals(1, requests.size(), "nothing was sent after close(): " + requests);
  }

  /**
   * A failed question on the server's status is asked again by a later call, but not by every call:
   * a server whose status keeps failing would get two requests for each encode.
   */
  @Test
  void aStatusQuestionThatFailedIsAskedAgainByALaterCallNotByEach() throws Exception {
    CountDownLatch asked = new CountDownLatch(2);
    CountDownLatch failed = new CountDownLatch(1);
    URI base =
        serve(
            (x, r) -> answer(x, 200, "application/x-npy", TWO_BY_THREE, false),
            (x, r) -> {
              asked.countDown();
              if (asked.getCount() == 1) {
                x.sendResponseHeaders(500, -1); // the first question fails
                failed.countDown();
              } else {
                STATUS.handle(x, r);
              }
            });
    try (BertClient client = BertClient.builder().http(base).retries(0).build()) {
      assertEquals(2, client.encode(List.of("a", "b")).length);
      assertTrue(failed.await(10, TimeUnit.SECONDS), "the first question was asked");
      long failedAt = System.nanoTime();
      for (int call = 0; call < 20; call++) {
        assertEquals(2, client.encode(List.of("a", "b")).length);
      }
      if (System.nanoTime() - failedAt < HttpBertClient.STATUS_ASKED_AGAIN_AFTER.toNanos()) {
        assertEquals(1, asked.getCount(), "20 calls right after the failure: not asked again");
      }
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (asked.getCount() > 0 && System.nanoTime() < until) {
        assertEquals(2, client.encode(List.of("a", "b")).length);
        asked.await(100, TimeUnit.MILLISECONDS);
      }
      assertEquals(0, asked.getCount(), "asked again a while after the first question failed");
    }
  }

  @Test
  void aRetryAfterOfADayOrOfNoNumberWaitsAMinuteAtMost() {
    Attempts attempts =
        new Attempts(
            new Addresses(List.of(URI.create("http://127.0.0.1:9"))),
            Addresses.Address::encode,
            3,
            Duration.ofSeconds(10),
            Duration.ofMillis(200));
    for (String retryAfter : List.of("86400", "9223372036854775", "9223372036854775807")) {
      attempts.next();
      Attempts.Step step =
          attempts.outcome(
              new Transport.Reply(
                  429,
                  "{\"status\": 429, \"type\": \"overloaded\", \"description\": \"busy\"}"
                      .getBytes(StandardCharsets.UTF_8),
                  "application/json",
                  null,
                  retryAfter),
              null);
      assertEquals(new Attempts.Again(Attempts.MAX_WAIT_MILLIS), step, retryAfter);
    }
  }

  @Test
  void noEncodeWaitsForTheServersMaxSeqLenEvenOnTheClientsFirstCall() throws Exception {
    CountDownLatch statusMayAnswer = new CountDownLatch(1);
    URI base =
        serve(
            (x, r) -> answer(x, 200, "application/x-npy", TWO_BY_THREE, false),
            (x, r) -> {
              statusMayAnswer.await(30, TimeUnit.SECONDS);
              STATUS.handle(x, r);
            });
    try (BertClient client =
            BertClient.builder().http(base).timeout(Duration.ofSeconds(20)).build();
        BertClient blocking =
            BertClient.builder().http(base).timeout(Duration.ofSeconds(20)).build()) {
      // both answered while the server still holds its answer on max_seq_len: a status that is
      // slow (or a server that is down) costs the first call nothing beyond its own timeout
      CompletableFuture<float[][]> vectors =
          CompletableFuture.supplyAsync(() -> client.encodeAsync(List.of("a", "b")))
              .get(10, TimeUnit.SECONDS);
      assertEquals(2, vectors.get(10, TimeUnit.SECONDS).length);
      assertEquals(
          2,
          CompletableFuture.supplyAsync(() -> blocking.encode(List.of("a", "b")))
              .get(10, TimeUnit.SECONDS)
              .length);
      assertEquals(1, statusMayAnswer.getCount(), "the status is still held");
      statusMayAnswer.countDown();
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

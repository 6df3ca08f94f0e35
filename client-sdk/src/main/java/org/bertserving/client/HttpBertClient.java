package org.bertserving.client;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.Cleaner;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * {@link BertClient} over HTTP and Jackson, on kept-alive connections: the blocking calls to an
 * {@code http://} server through {@link PlainHttp} in the calling thread, the asynchronous ones and
 * {@code https://} through the JDK's {@link HttpClient}.
 */
final class HttpBertClient implements BertClient {
  private static final System.Logger LOG = System.getLogger(BertClient.class.getName());
  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER).build();
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

  /** What the client says itself, or what would change how the server frames a request. */
  private static final Set<String> OWN_HEADERS =
      Set.of(
          "host",
          "content-length",
          "content-type",
          "transfer-encoding",
          "connection",
          "expect",
          "upgrade",
          "accept-encoding");

  /** Closes the connections of a client that was dropped without {@link #close()}. */
  private static final Cleaner CLEANER = Cleaner.create();

  private final HttpClient http;

  /** For the blocking calls to an {@code http://} server; null for {@code https://}. */
  private final PlainHttp plain;

  private final Cleaner.Cleanable cleanable;

  /** Every request's header lines but those of its body, for either transport; checked. */
  private final List<Map.Entry<String, String>> headers;

  private final BertClient.Builder settings;
  private final URI encodeUri;
  private final URI statusUri;
  private volatile Integer maxSeqLen;
  private volatile boolean lengthKnown;

  HttpBertClient(BertClient.Builder settings) {
    this.settings = settings;
    HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT);
    if (settings.sslContext != null) {
      client.sslContext(settings.sslContext);
    }
    this.http = client.build();
    this.headers = headers(settings);
    StringBuilder head = new StringBuilder();
    headers.forEach(h -> head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n"));
    this.plain =
        "http".equalsIgnoreCase(settings.uri.getScheme())
            ? new PlainHttp(settings.uri, CONNECT_TIMEOUT, head.toString())
            : null;
    PlainHttp connections = plain; // the action must not hold this client, or it is never run
    this.cleanable = plain == null ? null : CLEANER.register(this, connections::close);
    String base = settings.uri.toString().replaceAll("/+$", "");
    this.encodeUri = URI.create(base + "/encode");
    this.statusUri = URI.create(base + "/status/server");
  }

  @Override
  public float[][] encode(List<String> texts) {
    return encode(texts, EncodeOptions.DEFAULT).vectors();
  }

  /** Waits in the calling thread and reads the answer there (see {@link PlainHttp} for why). */
  @Override
  public EncodeResult encode(List<?> inputs, EncodeOptions options) {
    byte[] json = encodeBody(inputs, options);
    return result(
        encodeUri,
        sendNow(
            encodeUri,
            plain != null
                ? () -> reply(plain.exchange(encodeUri, json, settings.timeout))
                : () -> jdk(post(json))));
  }

  @Override
  public CompletableFuture<float[][]> encodeAsync(List<String> texts) {
    return encodeAsync(texts, EncodeOptions.DEFAULT).thenApply(EncodeResult::vectors);
  }

  CompletableFuture<EncodeResult> encodeAsync(List<?> inputs, EncodeOptions options) {
    return send(post(encodeBody(inputs, options)), 0, settings.backoff)
        .thenApply(body -> result(encodeUri, body));
  }

  private byte[] encodeBody(List<?> inputs, EncodeOptions options) {
    Outcomes.validate(inputs, options.isTokenized());
    if (settings.checkLength && !options.isTokenized()) {
      checkLength(inputs);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("texts", inputs);
    body.put("is_tokenized", options.isTokenized());
    body.put("show_tokens", options.showTokens());
    if (options.prompt() != null) {
      body.put("prompt", options.prompt());
    }
    if (options.normalize() != null) {
      body.put("normalize", options.normalize());
    }
    if (options.dimensions() != null) {
      body.put("dimensions", options.dimensions());
    }
    try {
      return JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private HttpRequest post(byte[] json) {
    return request(encodeUri)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(json))
        .build();
  }

  @Override
  public ServerStatus serverStatus() {
    byte[] body =
        sendNow(
            statusUri,
            plain != null
                ? () -> reply(plain.exchange(statusUri, null, settings.timeout))
                : () -> jdk(request(statusUri).GET().build()));
    try {
      return new ServerStatus(JSON.readValue(body, new TypeReference<Map<String, Object>>() {}));
    } catch (IOException e) {
      throw new BertClientException("unreadable answer from " + statusUri + ": " + e, e);
    }
  }

  private HttpRequest.Builder request(URI uri) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(settings.timeout);
    headers.forEach(h -> b.header(h.getKey(), h.getValue()));
    return b;
  }

  /**
   * Sends, retrying 429 and 503 after the server's {@code Retry-After} (or a doubling backoff), and
   * a connection that failed or broke (a node restarting): encoding is idempotent, so a request
   * sent again cannot do harm. Returns the body of the 200 answer, gunzipped.
   */
  private CompletableFuture<byte[]> send(HttpRequest request, int attempt, Duration backoff) {
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
        .handle(
            (response, e) ->
                next(request.uri(), response == null ? null : reply(response), e, attempt, backoff))
        .thenCompose(
            next ->
                next.body() != null
                    ? CompletableFuture.completedFuture(next.body())
                    : later(next.retryInMillis())
                        .thenCompose(x -> send(request, attempt + 1, backoff.multipliedBy(2))));
  }

  /** One attempt of a blocking call. */
  private interface Exchange {
    Reply run() throws IOException, InterruptedException;
  }

  /** An answer of either transport: what the retry decision reads of it. */
  private record Reply(int status, byte[] body, String contentEncoding, String retryAfter) {}

  private static Reply reply(HttpResponse<byte[]> r) {
    return new Reply(
        r.statusCode(),
        r.body(),
        r.headers().firstValue("Content-Encoding").orElse(null),
        r.headers().firstValue("Retry-After").orElse(null));
  }

  private static Reply reply(PlainHttp.Answer a) {
    return new Reply(a.status(), a.body(), a.header("content-encoding"), a.header("retry-after"));
  }

  private Reply jdk(HttpRequest request) throws IOException, InterruptedException {
    try {
      return reply(http.send(request, HttpResponse.BodyHandlers.ofByteArray()));
    } catch (IOException e) {
      // send() wraps what the asynchronous path sees as is in a plain IOException
      if (e.getClass() == IOException.class && e.getCause() instanceof IOException cause) {
        throw cause;
      }
      throw e;
    }
  }

  /** As {@link #send}, in the calling thread. */
  private byte[] sendNow(URI uri, Exchange exchange) {
    Duration backoff = settings.backoff;
    for (int attempt = 0; ; attempt++, backoff = backoff.multipliedBy(2)) {
      Reply reply = null;
      Throwable failure = null;
      try {
        reply = exchange.run();
      } catch (IOException e) {
        failure = e;
      } catch (InterruptedException e) {
        throw interrupted(uri, e);
      }
      Next next = next(uri, reply, failure, attempt, backoff);
      if (next.body() != null) {
        return next.body();
      }
      try {
        Thread.sleep(next.retryInMillis());
      } catch (InterruptedException e) {
        throw interrupted(uri, e);
      }
    }
  }

  private static BertClientException interrupted(URI uri, InterruptedException e) {
    Thread.currentThread().interrupt();
    return new BertClientException("interrupted while waiting for " + uri, e);
  }

  /** What comes of an attempt: the 200 answer's body, or a wait before the next attempt. */
  private record Next(byte[] body, long retryInMillis) {}

  /**
   * @param failure why there is no {@code response}
   * @throws BertClientException (or a subclass) when no attempt is left or this is no retry
   */
  private Next next(URI uri, Reply response, Throwable failure, int attempt, Duration backoff) {
    if (failure != null) {
      Throwable cause =
          failure instanceof CompletionException && failure.getCause() != null
              ? failure.getCause()
              : failure;
      if (cause instanceof HttpTimeoutException) {
        throw new BertTimeoutException(
            "no answer from " + uri + " within " + settings.timeout.toMillis() + " ms", cause);
      }
      if (cause instanceof IOException && attempt < settings.retries) {
        LOG.log(
            System.Logger.Level.DEBUG,
            "{0}: {1}; retrying in {2} ms",
            uri,
            cause,
            backoff.toMillis());
        return new Next(null, backoff.toMillis());
      }
      throw new BertClientException("cannot reach " + uri + ": " + cause, cause);
    }
    int status = response.status();
    byte[] bytes;
    JsonNode body;
    try {
      bytes = body(response);
      body = status == 200 ? null : parse(bytes);
    } catch (IOException e) {
      if (status == 200) {
        throw new BertClientException("unreadable answer from " + uri + ": " + e, e);
      }
      bytes = new byte[0];
      body = unreadable(e);
    }
    if (status == 200) {
      return new Next(bytes, 0);
    }
    String type = body.path("type").asText("error");
    String description = body.path("description").asText(new String(bytes));
    if ((status == 429 || status == 503) && attempt < settings.retries) {
      long wait = retryAfterMillis(response, backoff);
      LOG.log(System.Logger.Level.DEBUG, "{0} {1}; retrying in {2} ms", status, type, wait);
      return new Next(null, wait);
    }
    throw Outcomes.failure(status, type, description);
  }

  /** The server's {@code Retry-After} in seconds, else the backoff. */
  private static long retryAfterMillis(Reply response, Duration backoff) {
    if (response.retryAfter() == null) {
      return backoff.toMillis();
    }
    try {
      return Math.max(0, Long.parseLong(response.retryAfter().trim()) * 1000);
    } catch (NumberFormatException e) { // an HTTP date: not what this server sends
      return backoff.toMillis();
    }
  }

  private static CompletableFuture<Void> later(long millis) {
    return CompletableFuture.runAsync(
        () -> {}, CompletableFuture.delayedExecutor(millis, TimeUnit.MILLISECONDS));
  }

  private static byte[] body(Reply response) throws IOException {
    byte[] bytes = response.body();
    return "gzip".equalsIgnoreCase(response.contentEncoding())
        ? new GZIPInputStream(new ByteArrayInputStream(bytes)).readAllBytes()
        : bytes;
  }

  /** An error's body: its {@code type} and {@code description}, when it has them. */
  private static JsonNode parse(byte[] bytes) {
    try {
      JsonNode node = bytes.length == 0 ? null : JSON.readTree(bytes);
      return node == null ? JSON.createObjectNode() : node;
    } catch (IOException e) {
      return unreadable(e);
    }
  }

  private static JsonNode unreadable(IOException e) {
    return JSON.createObjectNode().put("description", "unreadable answer: " + e.getMessage());
  }

  private static EncodeResult result(URI uri, byte[] body) {
    try {
      return ReplyReader.read(JSON, body);
    } catch (IOException e) {
      throw new BertClientException("unreadable answer from " + uri + ": " + e.getMessage(), e);
    }
  }

  /** As the Python client: warn when a text has more words than the server keeps tokens. */
  private void checkLength(List<?> texts) {
    if (!lengthKnown) {
      try {
        maxSeqLen = serverStatus().maxSeqLen();
      } catch (BertClientException e) {
        if (e.getCause() instanceof InterruptedException) {
          throw e; // asked again next time
        }
        maxSeqLen = null;
      }
      lengthKnown = true;
    }
    Integer limit = maxSeqLen;
    if (limit == null) {
      return;
    }
    List<Integer> long_ = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      if (((String) texts.get(i)).split("\\s+").length > limit) {
        long_.add(i);
      }
    }
    if (!long_.isEmpty()) {
      LOG.log(
          System.Logger.Level.WARNING,
          "texts {0} are longer than the server''s max_seq_len {1}"
              + " and will be truncated; start the server with a larger -max_seq_len if that matters",
          long_,
          limit);
    }
  }

  /** The client's own headers, the application's (an own User-Agent replaces the client's). */
  private static List<Map.Entry<String, String>> headers(BertClient.Builder settings) {
    List<Map.Entry<String, String>> all = new ArrayList<>();
    all.add(Map.entry("Accept", "application/json"));
    all.add(Map.entry("Accept-Encoding", "gzip"));
    if (settings.headers.keySet().stream().noneMatch("User-Agent"::equalsIgnoreCase)) {
      all.add(Map.entry("User-Agent", "bert-serving-client"));
    }
    settings.headers.forEach((name, value) -> all.add(checked(name, value)));
    if (settings.apiKey != null) {
      all.add(checked("Authorization", "Bearer " + settings.apiKey));
    }
    return List.copyOf(all);
  }

  /**
   * A header; refused when the client sets it itself, or when HTTP cannot carry it (what the JDK
   * client refuses, and more).
   */
  private static Map.Entry<String, String> checked(String name, String value) {
    if (name.isEmpty() || !name.chars().allMatch(HttpBertClient::tokenChar)) {
      throw new IllegalArgumentException("not a header name: " + name);
    }
    if (OWN_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException("the client sets " + name + " itself");
    }
    if (value.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f || c > 0xff)) {
      throw new IllegalArgumentException("header " + name + " has a value HTTP cannot carry");
    }
    return Map.entry(name, value.strip());
  }

  private static boolean tokenChar(int c) {
    return c < 0x7f && (Character.isLetterOrDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0);
  }

  @Override
  public void close() {
    // the JDK client of Java 17 has no close(); its connections end with it
    if (cleanable != null) {
      cleanable.clean();
    }
  }
}

package org.bertserving.client;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.Cleaner;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import org.bertserving.client.http.EncodeBody;

/**
 * {@link BertClient} over HTTP on kept-alive connections, to one or several servers: the blocking
 * calls through a {@link Transport} in the calling thread, the asynchronous ones through the JDK's
 * client; both through {@link Attempts} for retries and failover. Vectors come as {@code .npy}
 * where the server sends it, else as JSON. Its settings are copied when it is built.
 */
final class HttpBertClient implements BertClient {
  private static final System.Logger LOG = System.getLogger(BertClient.class.getName());
  static final ObjectMapper JSON =
      JsonMapper.builder().enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER).build();

  /** Binary vectors where the server has them; JSON from older servers and with tokens. */
  private static final String NPY_OR_JSON = Npy.MEDIA_TYPE + ", application/json;q=0.9";

  private static final String JSON_ONLY = "application/json";

  /** Which {@link Transport} carries the blocking calls: {@code apache} or {@code jdk}. */
  static final String TRANSPORT_PROPERTY = "org.bertserving.client.transport";

  /** Closes the connections of a client that was dropped without {@link #close()}. */
  private static final Cleaner CLEANER = Cleaner.create();

  private final Addresses addresses;
  private final Duration timeout;
  private final int retries;
  private final Duration backoff;
  private final boolean checkLength;
  private final Transport blocking;
  private final JdkTransport async;
  private final Cleaner.Cleanable cleanable;

  /** Set by {@link #close()}: every later call fails, naming why. */
  private final AtomicBoolean closed = new AtomicBoolean();

  /** The server's status once asked (null inside: unknown), asked until it is had. */
  private final AtomicReference<CompletableFuture<ServerStatus>> lengths = new AtomicReference<>();

  /** How long after a failed question on the server's status the next is asked. */
  static final Duration STATUS_ASKED_AGAIN_AFTER = Duration.ofSeconds(5);

  /** When the last question on the server's status failed ({@link System#nanoTime()}). */
  private volatile long statusFailedAt = System.nanoTime() - STATUS_ASKED_AGAIN_AFTER.toNanos();

  HttpBertClient(
      List<URI> servers,
      Duration timeout,
      int retries,
      Duration backoff,
      boolean checkLength,
      List<Map.Entry<String, String>> headers,
      SSLContext ssl,
      Duration connectTimeout) {
    this.addresses = new Addresses(servers);
    this.timeout = timeout;
    this.retries = retries;
    this.backoff = backoff;
    this.checkLength = checkLength;
    this.async = new JdkTransport(connectTimeout, ssl, headers);
    this.blocking =
        "jdk".equals(System.getProperty(TRANSPORT_PROPERTY))
            ? async
            : new ApacheTransport(connectTimeout, ssl, headers);
    Transport connections = blocking; // the action must not hold this client, or it never runs
    this.cleanable = CLEANER.register(this, connections::close);
  }

  @Override
  public float[][] encode(List<String> texts) {
    return Outcomes.pooled(encode(texts, EncodeOptions.DEFAULT));
  }

  @Override
  public EncodeResult encode(List<?> inputs, EncodeOptions options) {
    byte[] json = encodeBody(inputs, options);
    checkLength(inputs, options);
    return Outcomes.whole(
        result(call(Addresses.Address::encode, json, accept(options))), inputs.size());
  }

  @Override
  public CompletableFuture<float[][]> encodeAsync(List<String> texts) {
    return encodeAsync(texts, EncodeOptions.DEFAULT, Outcomes::pooled);
  }

  /** Never blocks: even the first call's question for max_seq_len is asked asynchronously. */
  CompletableFuture<EncodeResult> encodeAsync(List<?> inputs, EncodeOptions options) {
    return encodeAsync(inputs, options, Function.identity());
  }

  /**
   * The call's own future, completed with {@code part} of the result: cancelling it (an {@code
   * encodeStream} closed early, an interrupted wait) aborts the exchange in flight, closing its
   * connection, and ends the call there. Were the caller given a future of the JDK client, its
   * cancel would abort the exchange as if the server had failed, and the texts be sent again.
   */
  private <T> CompletableFuture<T> encodeAsync(
      List<?> inputs, EncodeOptions options, Function<EncodeResult, T> part) {
    byte[] json = encodeBody(inputs, options);
    checkLength(inputs, options);
    Attempts attempts = attempts(Addresses.Address::encode);
    AtomicReference<CompletableFuture<?>> exchange = new AtomicReference<>();
    CompletableFuture<T> call = new CompletableFuture<>();
    callAsync(attempts, json, accept(options), exchange)
        .thenApply(answer -> part.apply(Outcomes.whole(result(answer), inputs.size())))
        .whenComplete(
            (r, e) -> {
              if (e == null) {
                call.complete(r);
              } else {
                call.completeExceptionally(e);
              }
            });
    call.whenComplete(
        (r, e) -> {
          if (call.isCancelled()) {
            attempts.cancel();
            CompletableFuture<?> current = exchange.getAndSet(CANCELLED);
            if (current != null) {
              current.cancel(true);
            }
          }
        });
    return call;
  }

  /**
   * Warns of texts longer than the server's {@code max_seq_len} once it is known. The encode never
   * waits for it: on a client's first call, waiting made a server that was slow or down cost the
   * status's timeout and retries before the encode's own.
   */
  private void checkLength(List<?> inputs, EncodeOptions options) {
    if (checkLength && !options.isTokenized()) {
      List<?> texts = new ArrayList<>(inputs); // the caller may reuse its list once we return
      maxSeqLen(options.model()).thenAccept(limit -> warnIfLonger(texts, limit));
    }
  }

  @Override
  public List<RerankResult> rerank(String query, List<String> documents, Integer topN) {
    byte[] body = Scoring.rerankBody(JSON, query, documents, topN);
    return Scoring.rerankResults(JSON, call(Scoring.RERANK, body, JSON_ONLY).body());
  }

  @Override
  public List<List<LabelScore>> classify(List<String> texts) {
    byte[] body = Scoring.classifyBody(JSON, texts);
    return Scoring.labels(JSON, call(Scoring.PREDICT, body, JSON_ONLY).body());
  }

  @Override
  public ServerStatus serverStatus() {
    return status(call(Addresses.Address::status, null, JSON_ONLY));
  }

  private static String accept(EncodeOptions options) {
    return options.showTokens() ? JSON_ONLY : NPY_OR_JSON;
  }

  private static byte[] encodeBody(List<?> inputs, EncodeOptions options) {
    Outcomes.validate(inputs, options.isTokenized());
    EncodeBody body =
        new EncodeBody(
            null,
            JSON.valueToTree(inputs),
            options.isTokenized(),
            options.showTokens(),
            options.prompt(),
            options.normalize(),
            options.dimensions(),
            options.model());
    try {
      return JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Attempts attempts(Function<Addresses.Address, URI> route) {
    return new Attempts(addresses, route, retries, timeout, backoff);
  }

  /** One call in the calling thread, through the addresses and the retries. */
  private Attempts.Done call(Function<Addresses.Address, URI> route, byte[] body, String accept) {
    Attempts attempts = attempts(route);
    while (true) {
      if (closed.get()) { // also before a retry: close() may have come while this call waited
        throw closedError();
      }
      URI uri = attempts.next();
      Transport.Reply reply = null;
      IOException failure = null;
      try {
        reply = blocking.exchange(uri, body, accept, System.nanoTime() + timeout.toNanos());
      } catch (IOException e) {
        failure = e;
      } catch (InterruptedException e) {
        throw interrupted(uri, e);
      } catch (IllegalStateException e) { // the connection pool, shut down by close() meanwhile
        if (closed.get()) {
          throw closedError();
        }
        throw e;
      }
      Attempts.Step step = attempts.outcome(reply, failure);
      if (step instanceof Attempts.Done done) {
        return done;
      }
      long wait = ((Attempts.Again) step).millis();
      if (wait > 0) {
        try {
          Thread.sleep(wait);
        } catch (InterruptedException e) {
          throw interrupted(uri, e);
        }
      }
    }
  }

  /** What an asynchronous call's exchange becomes once the caller cancelled the call. */
  private static final CompletableFuture<?> CANCELLED = new CompletableFuture<>();

  /** As {@link #call}, without a thread waiting. */
  private CompletableFuture<Attempts.Done> callAsync(
      Attempts attempts, byte[] body, String accept) {
    return callAsync(attempts, body, accept, new AtomicReference<>());
  }

  /**
   * @param exchange set to each attempt's exchange as it starts
   */
  private CompletableFuture<Attempts.Done> callAsync(
      Attempts attempts,
      byte[] body,
      String accept,
      AtomicReference<CompletableFuture<?>> exchange) {
    if (closed.get()) {
      return CompletableFuture.failedFuture(closedError());
    }
    CompletableFuture<?> previous = exchange.get();
    URI uri = attempts.next(); // throws once the call is cancelled
    CompletableFuture<Transport.Reply> sent =
        async.exchangeAsync(uri, body, accept, System.nanoTime() + timeout.toNanos());
    if (!exchange.compareAndSet(previous, sent)) { // cancelled meanwhile
      sent.cancel(true);
      return CompletableFuture.failedFuture(new CancellationException("cancelled by the caller"));
    }
    return sent.handle(attempts::outcome)
        .thenCompose(
            step ->
                step instanceof Attempts.Done done
                    ? CompletableFuture.completedFuture(done)
                    : CompletableFuture.runAsync(
                            () -> {},
                            CompletableFuture.delayedExecutor(
                                ((Attempts.Again) step).millis(), TimeUnit.MILLISECONDS))
                        .thenCompose(x -> callAsync(attempts, body, accept, exchange)));
  }

  private static BertClientException interrupted(URI uri, InterruptedException e) {
    Thread.currentThread().interrupt();
    return new BertClientException("interrupted while waiting for " + uri, e);
  }

  private static EncodeResult result(Attempts.Done answer) {
    String type = answer.contentType();
    if (type != null && type.regionMatches(true, 0, Npy.MEDIA_TYPE, 0, Npy.MEDIA_TYPE.length())) {
      return Npy.read(answer.body());
    }
    try {
      return ReplyReader.read(JSON, answer.body());
    } catch (IOException e) {
      throw new BertClientException("unreadable answer of /encode: " + e.getMessage(), e);
    }
  }

  private static ServerStatus status(Attempts.Done answer) {
    try {
      return JSON.readValue(answer.body(), ServerStatus.class);
    } catch (IOException e) {
      throw new BertClientException("unreadable answer of /status/server: " + e, e);
    }
  }

  /**
   * The max_seq_len of {@code model} (null: the default model), from the server's status, asked
   * without blocking, once it is had; null when it cannot be had. A failed question is asked again
   * by a call at least {@link #STATUS_ASKED_AGAIN_AFTER} later, not by every call: a server whose
   * status fails would otherwise get two requests for each encode.
   */
  private CompletableFuture<Integer> maxSeqLen(String model) {
    CompletableFuture<ServerStatus> known = lengths.get();
    if (known == null) {
      if (System.nanoTime() - statusFailedAt < STATUS_ASKED_AGAIN_AFTER.toNanos()) {
        return CompletableFuture.completedFuture(null);
      }
      CompletableFuture<ServerStatus> asked = new CompletableFuture<>();
      if (lengths.compareAndSet(null, asked)) {
        callAsync(attempts(Addresses.Address::status), null, JSON_ONLY)
            .thenApply(HttpBertClient::status)
            .whenComplete(
                (s, e) -> {
                  if (e != null) {
                    statusFailedAt = System.nanoTime();
                    lengths.compareAndSet(asked, null); // a later call asks again
                  }
                  asked.complete(e == null ? s : null);
                });
        known = asked;
      } else {
        known = lengths.get(); // another call's question, or none if it failed meanwhile
        if (known == null) {
          return CompletableFuture.completedFuture(null);
        }
      }
    }
    return known.thenApply(s -> s == null ? null : s.maxSeqLen(model));
  }

  /** As the Python client: warn when a text has more words than the server keeps tokens. */
  private static void warnIfLonger(List<?> texts, Integer limit) {
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

  private static BertClientException closedError() {
    return new BertClientException("this client is closed");
  }

  @Override
  public void close() {
    closed.set(true);
    cleanable.clean();
  }
}

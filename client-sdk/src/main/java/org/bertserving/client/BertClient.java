package org.bertserving.client;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;

/**
 * Sentence vectors from a bert-serving server. One instance is thread-safe and meant to be shared
 * by all threads of an application (unlike the Python client).
 *
 * <p>Over HTTP the blocking calls run in the calling thread on kept-alive connections (Apache
 * HttpClient 5), the asynchronous ones on the JDK's {@code HttpClient}; a blocking call whose
 * thread is interrupted ends with a {@link BertClientException}, and the thread stays interrupted.
 * Vectors travel as NumPy {@code .npy} (float32) from servers that send it, as JSON from older ones
 * and when tokens are asked for. Several servers can be given ({@link #http(List)}): calls take
 * them in turn and go on to the next one when a server cannot be reached or answers 503.
 *
 * <pre>{@code
 * try (BertClient bc = BertClient.http("127.0.0.1", 8125)) {
 *   float[][] vectors = bc.encode(List.of("First do it", "then do it right"));
 * }
 * }</pre>
 */
public interface BertClient extends AutoCloseable {

  /**
   * Pooled vectors {@code [B, D]} of plain texts ({@code "a ||| b"} is a sentence pair).
   *
   * @throws BertClientException from a server started with {@code -pooling_strategy NONE}, which
   *     answers token vectors: use {@link #encodeTokens(List)}
   */
  float[][] encode(List<String> texts);

  /**
   * Texts or, with {@code options.isTokenized()}, token lists given as {@code List<List<String>>}.
   */
  EncodeResult encode(List<?> inputs, EncodeOptions options);

  /** Pre-tokenized inputs; tokens unknown to the model become {@code [UNK]}. */
  default float[][] encodeTokenized(List<List<String>> tokens) {
    return Outcomes.pooled(encode(tokens, new EncodeOptions(true, false)));
  }

  /** Token vectors {@code [B, T, D]} from a server started with {@code -pooling_strategy NONE}. */
  default float[][][] encodeTokens(List<String> texts) {
    float[][][] tokens = encode(texts, EncodeOptions.DEFAULT).tokenVectors();
    if (tokens == null) {
      throw new BertClientException("the server pools (not -pooling_strategy NONE): use encode()");
    }
    return tokens;
  }

  /**
   * {@link #encode(List)} without blocking the calling thread, not even on a client's first call
   * (when the HTTP client asks the server for its {@code max_seq_len}).
   */
  CompletableFuture<float[][]> encodeAsync(List<String> texts);

  /**
   * Vectors of a corpus of any size, in order, sent in batches of {@code batchSize} with up to
   * {@code inFlight} requests at once; lazy: texts are read as the stream is consumed. Closing the
   * stream (try-with-resources) before its end cancels the requests in flight and closes {@code
   * texts} (a file's lines, say).
   */
  default java.util.stream.Stream<float[]> encodeStream(
      java.util.stream.Stream<String> texts, int batchSize, int inFlight) {
    BatchedIterator rows = new BatchedIterator(this, texts.iterator(), batchSize, inFlight);
    return java.util.stream.StreamSupport.stream(
            Spliterators.spliteratorUnknownSize(rows, Spliterator.ORDERED | Spliterator.NONNULL),
            false)
        .onClose(
            () -> {
              rows.cancel();
              texts.close();
            });
  }

  /**
   * Ranks documents by their relevance to a query with the server's cross-encoder ({@code POST
   * /v1/rerank}), most relevant first.
   *
   * @param topN how many to return, {@code null} for all
   * @throws BertServerException when the server's model is not a reranker (400)
   * @throws UnsupportedOperationException on a client without HTTP (the cluster client)
   */
  default List<RerankResult> rerank(String query, List<String> documents, Integer topN) {
    throw new UnsupportedOperationException("rerank needs the HTTP client (BertClient.http)");
  }

  /**
   * Each text's labels by the server's classifier ({@code POST /predict}), most probable first.
   *
   * @throws BertServerException when the server's model is not a classifier
   * @throws UnsupportedOperationException on a client without HTTP (the cluster client)
   */
  default List<List<LabelScore>> classify(List<String> texts) {
    throw new UnsupportedOperationException("classify needs the HTTP client (BertClient.http)");
  }

  /** The server's configuration and statistics ({@code GET /status/server} over HTTP). */
  ServerStatus serverStatus();

  default ServerConfig serverConfig() {
    return ServerConfig.of(serverStatus());
  }

  @Override
  void close();

  /**
   * An HTTP client for {@code http://host:port} with default settings (see {@link #builder()} for
   * HTTPS and API keys); {@code host} a name or an IPv4 or IPv6 address ({@code ::1}).
   */
  static BertClient http(String host, int port) {
    String literal = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    return builder().http(URI.create("http://" + literal + ":" + port)).build();
  }

  /**
   * An HTTP client spreading its requests over several servers (e.g. the frontends of one cluster),
   * with default settings; see {@link Builder#http(List)}.
   */
  static BertClient http(List<URI> servers) {
    return builder().http(servers).build();
  }

  /**
   * A client through Akka's cluster client (needs {@code akka-cluster-tools} and {@code
   * akka-serialization-jackson} on the classpath).
   *
   * @param contacts {@code host:port} of cluster nodes with the frontend role
   */
  static BertClient cluster(String... contacts) {
    return cluster(List.of(contacts), "127.0.0.1", Duration.ofSeconds(60), 3);
  }

  /**
   * As {@link #cluster(String...)}, with the address the cluster reaches this client at, the
   * timeout and the retries on 429/503.
   */
  static BertClient cluster(
      List<String> contacts, String clientHost, Duration timeout, int retries) {
    return ClusterBertClient.create(
        contacts, clientHost, timeout, retries, com.typesafe.config.ConfigFactory.load());
  }

  /**
   * As above, the client's actor system configured by {@code config} instead of the application's
   * {@code application.conf}: e.g. Artery over TLS ({@code akka.remote.artery.transport = tls-tcp}
   * and a key store of the client's own that the cluster's CA signed) for a cluster that runs
   * {@code cluster-conf/tls.conf}.
   */
  static BertClient cluster(
      List<String> contacts,
      String clientHost,
      Duration timeout,
      int retries,
      com.typesafe.config.Config config) {
    return ClusterBertClient.create(contacts, clientHost, timeout, retries, config);
  }

  static Builder builder() {
    return new Builder();
  }

  /**
   * Settings of an HTTP client; {@link #build()} copies them, so a built client never changes with
   * its builder.
   */
  final class Builder {
    private List<URI> servers;
    private Duration timeout = Duration.ofSeconds(60);
    private Duration connectTimeout = Duration.ofSeconds(10);
    private int retries = 3;
    private Duration backoff = Duration.ofMillis(200);
    private boolean checkLength = true;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private String apiKey;
    private javax.net.ssl.SSLContext sslContext;

    private Builder() {}

    /** The server, {@code http://host:port} or {@code https://host:port}. */
    public Builder http(URI server) {
      return http(List.of(server));
    }

    /**
     * Several servers (e.g. every frontend of a cluster): each call goes to the next one in turn. A
     * call whose server refuses or drops the connection, cannot be connected to in time, or answers
     * 503 goes on at once to the next server (encoding is idempotent, so a request whose server
     * died mid-flight is sent again elsewhere); a server that failed (or did not answer within the
     * {@link #timeout(Duration)}, which ends that call) is passed over for about 1.5 s unless all
     * have failed. When every server has failed, the call waits and tries them again as {@link
     * #retries(int)} allows; the error after the last names each server and what went wrong there.
     */
    public Builder http(List<URI> servers) {
      if (servers.isEmpty()) {
        throw new IllegalArgumentException("no server given");
      }
      for (URI s : servers) {
        String scheme = s.getScheme();
        if (!"http".equalsIgnoreCase(scheme) && !"https".equalsIgnoreCase(scheme)) {
          throw new IllegalArgumentException("not an http:// or https:// address: " + s);
        }
        if (s.getHost() == null) {
          throw new IllegalArgumentException(
              "no host name in " + s + " (java.net.URI reads none with an underscore in it)");
        }
      }
      this.servers = List.copyOf(servers);
      return this;
    }

    /**
     * Longest wait for one attempt, from sending the request to the last byte of its answer
     * (default 60 s).
     */
    public Builder timeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("a timeout must be positive: " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * Longest wait for a new connection to a server (default 10 s; at most half the {@link
     * #timeout(Duration)}, so that a call can still go on within it). A connection not made in time
     * never carried the request, so the call goes on at once to the next server, as after a refused
     * connection; with one server, it is retried as {@link #retries(int)} allows.
     */
    public Builder connectTimeout(Duration connectTimeout) {
      if (connectTimeout.isNegative() || connectTimeout.isZero()) {
        throw new IllegalArgumentException("a connect timeout must be positive: " + connectTimeout);
      }
      this.connectTimeout = connectTimeout;
      return this;
    }

    /**
     * Rounds of retries after 429/503 answers or unreachable servers (default 3), each after
     * waiting as the server's {@code Retry-After} says (or the {@link #backoff(Duration)}), a
     * minute at most.
     */
    public Builder retries(int retries) {
      if (retries < 0) {
        throw new IllegalArgumentException("retries must not be negative: " + retries);
      }
      this.retries = retries;
      return this;
    }

    /**
     * First wait between retries when the server gives none (doubles each time, up to a minute;
     * default 200 ms).
     */
    public Builder backoff(Duration backoff) {
      if (backoff.isNegative()) {
        throw new IllegalArgumentException("a backoff must not be negative: " + backoff);
      }
      this.backoff = backoff;
      return this;
    }

    /** Log a warning for texts longer than the server's {@code max_seq_len} (default on). */
    public Builder checkLength(boolean checkLength) {
      this.checkLength = checkLength;
      return this;
    }

    /** The server's API key ({@code -api_key}), sent as {@code Authorization: Bearer <key>}. */
    public Builder apiKey(String apiKey) {
      this.apiKey = apiKey;
      return this;
    }

    /**
     * For {@code https://} servers whose certificate the JVM does not trust by default (a
     * self-signed one, a private CA): trust the certificates of this PEM file (the server's, or its
     * CA's), or of this PKCS#12 / JKS trust store without a password.
     */
    public Builder trust(java.nio.file.Path pemOrTrustStore) {
      this.sslContext = Trust.of(pemOrTrustStore, null);
      return this;
    }

    /** As {@link #trust(java.nio.file.Path)}, for a trust store with a password. */
    public Builder trust(java.nio.file.Path trustStore, char[] password) {
      this.sslContext = Trust.of(trustStore, password);
      return this;
    }

    /** Trust the certificates of this (loaded) trust store. */
    public Builder trust(java.security.KeyStore trustStore) {
      this.sslContext = Trust.of(trustStore);
      return this;
    }

    /**
     * A header sent with every request, e.g. for a proxy's authentication; one the client sets
     * itself ({@code Accept}, {@code Content-Type}, ...) or that HTTP cannot carry is refused by
     * {@link #build()}.
     */
    public Builder header(String name, String value) {
      headers.put(name, value);
      return this;
    }

    /**
     * A client with these settings.
     *
     * @throws IllegalArgumentException for a header the client cannot send
     */
    public BertClient build() {
      if (servers == null) {
        throw new IllegalStateException("no server: call http(URI)");
      }
      return new HttpBertClient(
          servers,
          timeout,
          retries,
          backoff,
          checkLength,
          Headers.of(headers, apiKey),
          sslContext,
          // a connection that hangs past the call's own deadline would end the call as a request
          // timeout, without going on to the next server
          connectTimeout.compareTo(timeout.dividedBy(2)) > 0
              ? (timeout.toMillis() < 2 ? Duration.ofMillis(1) : timeout.dividedBy(2))
              : connectTimeout);
    }
  }
}

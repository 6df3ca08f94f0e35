package org.bertserving.client;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.config.RegistryBuilder;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.pool.PoolReusePolicy;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * Apache HttpClient 5's classic API: the whole exchange in the calling thread on pooled, kept-alive
 * connections. Its sockets are those of {@link SocketChannel}s, whose blocking reads end at an
 * interrupt (a plain {@link java.net.Socket}'s do not); the deadline aborts the exchange from a
 * timer thread.
 */
final class ApacheTransport implements Transport {
  private static final ScheduledThreadPoolExecutor TIMER = timer();

  private final CloseableHttpClient http;

  ApacheTransport(
      Duration connectTimeout, SSLContext ssl, List<Map.Entry<String, String>> headers) {
    PoolingHttpClientConnectionManager pool =
        new PoolingHttpClientConnectionManager(
            new DefaultHttpClientConnectionOperator(
                proxy -> SocketChannel.open().socket(),
                null,
                null,
                RegistryBuilder.<TlsSocketStrategy>create()
                    .register(
                        "https", new DefaultClientTlsStrategy(ssl != null ? ssl : defaultContext()))
                    .build()),
            PoolConcurrencyPolicy.LAX,
            PoolReusePolicy.LIFO,
            TimeValue.NEG_ONE_MILLISECOND,
            null);
    pool.setDefaultSocketConfig(SocketConfig.custom().setTcpNoDelay(true).build());
    pool.setDefaultConnectionConfig(
        ConnectionConfig.custom()
            .setConnectTimeout(Timeout.of(connectTimeout))
            .setValidateAfterInactivity(TimeValue.ofSeconds(2))
            .build());
    pool.setMaxTotal(256);
    pool.setDefaultMaxPerRoute(256);
    this.http =
        HttpClients.custom()
            .setConnectionManager(pool)
            .setDefaultHeaders(
                headers.stream()
                    .map(
                        h ->
                            (Header)
                                new org.apache.hc.core5.http.message.BasicHeader(
                                    h.getKey(), h.getValue()))
                    .toList())
            .disableDefaultUserAgent()
            .disableContentCompression() // Accept-Encoding and gunzip are the client's
            .disableAutomaticRetries() // as are retries
            .disableRedirectHandling()
            .disableCookieManagement()
            .disableAuthCaching()
            .disableConnectionState()
            .build();
  }

  @Override
  public Reply exchange(URI uri, byte[] body, String accept, long deadline)
      throws IOException, InterruptedException {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new HttpTimeoutException("no time left for " + uri);
    }
    HttpUriRequestBase request = body == null ? new HttpGet(uri) : new HttpPost(uri);
    request.setHeader("Accept", accept);
    if (body != null) {
      request.setEntity(new ByteArrayEntity(body, ContentType.APPLICATION_JSON));
    }
    request.setConfig(
        RequestConfig.custom()
            .setConnectionRequestTimeout(Timeout.ofNanoseconds(left))
            .setResponseTimeout(Timeout.ofNanoseconds(left))
            .build());
    ScheduledFuture<?> abort = TIMER.schedule(request::cancel, left, TimeUnit.NANOSECONDS);
    try {
      return http.execute(
          request,
          r ->
              new Reply(
                  r.getCode(),
                  r.getEntity() == null ? new byte[0] : EntityUtils.toByteArray(r.getEntity()),
                  value(r.getFirstHeader("Content-Type")),
                  value(r.getFirstHeader("Content-Encoding")),
                  value(r.getFirstHeader("Retry-After"))));
    } catch (IOException e) {
      if (Thread.currentThread().isInterrupted()) {
        throw (InterruptedException) new InterruptedException("interrupted").initCause(e);
      }
      if (e instanceof ConnectTimeoutException) {
        throw (IOException)
            new HttpConnectTimeoutException("connect to " + uri + " timed out").initCause(e);
      }
      if (request.isCancelled() || e instanceof SocketTimeoutException) {
        throw (IOException)
            new HttpTimeoutException("no whole answer from " + uri + " in time").initCause(e);
      }
      throw e;
    } finally {
      abort.cancel(false);
    }
  }

  private static String value(Header h) {
    return h == null ? null : h.getValue();
  }

  private static SSLContext defaultContext() {
    try {
      return SSLContext.getDefault();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no TLS", e);
    }
  }

  private static ScheduledThreadPoolExecutor timer() {
    ScheduledThreadPoolExecutor t =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread thread = new Thread(r, "bert-client-deadlines");
              thread.setDaemon(true);
              return thread;
            });
    t.setRemoveOnCancelPolicy(true);
    return t;
  }

  @Override
  public void close() {
    try {
      http.close();
    } catch (IOException e) {
      // closing kept-alive connections: nothing is waiting for them
    }
  }
}

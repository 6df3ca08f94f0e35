package org.bertserving.client;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;

/**
 * The JDK's {@link HttpClient}: the asynchronous calls always, the blocking ones when chosen. Its
 * own timeout ends at the answer's head; the deadline here bounds the body too, by cancelling the
 * exchange (which, since Java 16, aborts it).
 */
final class JdkTransport implements Transport {
  private final HttpClient http;
  private final List<Map.Entry<String, String>> headers;

  JdkTransport(Duration connectTimeout, SSLContext ssl, List<Map.Entry<String, String>> headers) {
    HttpClient.Builder b =
        HttpClient.newBuilder()
            .connectTimeout(connectTimeout)
            .version(HttpClient.Version.HTTP_1_1); // no h2c upgrade attempt on each connection
    if (ssl != null) {
      b.sslContext(ssl);
    }
    this.http = b.build();
    this.headers = headers;
  }

  @Override
  public Reply exchange(URI uri, byte[] body, String accept, long deadline)
      throws IOException, InterruptedException {
    CompletableFuture<HttpResponse<byte[]>> sent = send(uri, body, accept, deadline);
    try {
      return reply(sent.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
    } catch (TimeoutException e) {
      sent.cancel(true);
      throw new HttpTimeoutException("no whole answer from " + uri + " in time");
    } catch (InterruptedException e) {
      sent.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      throw unwrapped(e.getCause());
    }
  }

  /** As {@link #exchange}, without waiting; fails with the same exceptions. */
  CompletableFuture<Reply> exchangeAsync(URI uri, byte[] body, String accept, long deadline) {
    CompletableFuture<HttpResponse<byte[]>> sent = send(uri, body, accept, deadline);
    // the timeout on a copy: on the JDK's own future it would complete it, and the cancel below
    // (which aborts the exchange and closes its connection) would then find nothing to cancel
    CompletableFuture<Reply> reply =
        sent.copy()
            .orTimeout(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
            .handle(
                (r, e) -> {
                  if (e == null) {
                    return reply(r);
                  }
                  Throwable cause =
                      e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                  if (cause instanceof TimeoutException) {
                    sent.cancel(true);
                    throw new CompletionException(
                        new HttpTimeoutException("no whole answer from " + uri + " in time"));
                  }
                  throw new CompletionException(unwrapped(cause));
                });
    // a caller that cancels (its stream closed) aborts the exchange and closes its connection
    reply.whenComplete(
        (r, e) -> {
          if (reply.isCancelled()) {
            sent.cancel(true);
          }
        });
    return reply;
  }

  private CompletableFuture<HttpResponse<byte[]>> send(
      URI uri, byte[] body, String accept, long deadline) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))
            .header("Accept", accept);
    headers.forEach(h -> b.header(h.getKey(), h.getValue()));
    if (body == null) {
      b.GET();
    } else {
      b.header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    }
    return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static Reply reply(HttpResponse<byte[]> r) {
    return new Reply(
        r.statusCode(),
        r.body(),
        r.headers().firstValue("Content-Type").orElse(null),
        r.headers().firstValue("Content-Encoding").orElse(null),
        r.headers().firstValue("Retry-After").orElse(null));
  }

  /** What the client's failure handling reads: an IOException as the transport saw it. */
  private static IOException unwrapped(Throwable cause) {
    if (cause instanceof HttpConnectTimeoutException || cause instanceof HttpTimeoutException) {
      return (IOException) cause;
    }
    if (cause instanceof IOException io) {
      return io;
    }
    return new IOException(String.valueOf(cause), cause);
  }

  @Override
  public void close() {
    // the JDK client of Java 17 has no close(): its connections end with it
  }
}

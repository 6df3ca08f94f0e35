package org.bertserving.client;

import java.io.IOException;
import java.net.URI;

/**
 * One HTTP exchange in the calling thread: the seam between the client's retries and failover
 * ({@link Attempts}) and an HTTP library. Implementations pool kept-alive connections, send with
 * {@code TCP_NODELAY}, and end the exchange at an interrupt ({@link InterruptedException}, or an
 * {@link IOException} with the thread's interrupt flag set) and at the deadline.
 */
interface Transport extends AutoCloseable {

  /**
   * @param body the JSON body of a POST, or {@code null} for a GET
   * @param accept the request's {@code Accept}
   * @param deadline the {@link System#nanoTime()} by which the whole answer has come
   * @throws java.net.http.HttpConnectTimeoutException when connecting took too long
   * @throws java.net.http.HttpTimeoutException when the deadline passed
   */
  Reply exchange(URI uri, byte[] body, String accept, long deadline)
      throws IOException, InterruptedException;

  @Override
  void close();

  /** An answer as the client reads it: the body as sent (perhaps gzipped), some headers. */
  record Reply(
      int status, byte[] body, String contentType, String contentEncoding, String retryAfter) {}
}

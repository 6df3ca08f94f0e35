package org.bertserving.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * HTTP/1.1 on plain TCP for the blocking calls: the whole exchange in the calling thread, on
 * kept-alive connections, the request's head and body in one write.
 *
 * <p>Why not the JDK's {@code HttpClient} here: it hands each exchange from the caller to its
 * selector thread and back, and writes a request's head and body apart (so the server must stream
 * even a tiny body). One 8-token query took 5 ms longer through it than through one write and read
 * in the caller, on 2 shared cores where the server's own share was about 5 ms. HTTPS and the
 * asynchronous calls stay on the JDK client.
 *
 * <p>The calling thread waits in a {@link Selector} of the connection's own, so an interrupt or the
 * request's deadline ends the wait at once; the connection is then closed, never reused.
 */
final class PlainHttp implements AutoCloseable {
  private static final int MAX_IDLE = 256;
  private static final int MAX_LINE = 64 * 1024;

  /**
   * Most bytes one channel call moves: the JDK copies a heap buffer through a temporary direct
   * buffer of its size, kept per thread afterwards.
   */
  private static final int SLICE = 64 * 1024;

  /** An answer: its status, its headers by lower-case name (repeats joined by ", "), its body. */
  record Answer(int status, Map<String, String> headers, byte[] body) {
    String header(String lowerCaseName) {
      return headers.get(lowerCaseName);
    }
  }

  private final String host;
  private final int port;
  private final Duration connectTimeout;
  private final byte[] commonHead;
  private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
  private volatile boolean closed;

  /**
   * @param commonHead header lines every request carries (each ending in CRLF), already checked
   * @throws IllegalArgumentException when {@code base} has no host name {@link URI} can read
   */
  PlainHttp(URI base, Duration connectTimeout, String commonHead) {
    String h = base.getHost();
    if (h == null) {
      throw new IllegalArgumentException(
          "no host name in " + base + " (java.net.URI reads none with an underscore in it)");
    }
    this.host = h.startsWith("[") ? h.substring(1, h.length() - 1) : h;
    this.port = base.getPort() == -1 ? 80 : base.getPort();
    this.connectTimeout = connectTimeout;
    String hostHeader = base.getPort() == -1 ? h : h + ":" + base.getPort();
    this.commonHead =
        ("Host: " + hostHeader + "\r\n" + commonHead).getBytes(StandardCharsets.ISO_8859_1);
  }

  /**
   * One exchange within {@code timeout}. A kept-alive connection that turns out closed by the
   * server before any byte of the answer (an idle timeout, a restart) is left for a new one: the
   * callers only send idempotent requests. After {@link #close()}, each exchange has a connection
   * of its own, closed at its end.
   *
   * @param body the JSON body of a POST, or {@code null} for a GET
   * @throws HttpTimeoutException when the timeout passed first
   */
  Answer exchange(URI uri, byte[] body, Duration timeout) throws IOException, InterruptedException {
    long now = System.nanoTime();
    long deadline =
        timeout.compareTo(Duration.ofDays(1000)) > 0
            ? Long.MAX_VALUE / 2 + now
            : now + timeout.toNanos();
    byte[] request = request(uri, body);
    while (true) {
      Connection c = idle.pollFirst();
      boolean reused = c != null;
      if (reused && !c.stillOpen()) {
        c.close();
        continue;
      }
      if (!reused) {
        c = Connection.open(new InetSocketAddress(host, port), connectTimeout, deadline);
      }
      try {
        Answer answer = c.exchange(request, deadline);
        if (c.reusable && !closed) {
          keep(c);
        } else {
          c.close();
        }
        return answer;
      } catch (IOException e) {
        c.close();
        if (!reused || c.answered || e instanceof HttpTimeoutException) {
          throw e;
        }
      } catch (Throwable e) {
        c.close();
        throw e;
      }
    }
  }

  private void keep(Connection c) {
    idle.offerFirst(c);
    while (idle.size() > MAX_IDLE) {
      Connection oldest = idle.pollLast();
      if (oldest != null) {
        oldest.close();
      }
    }
    if (closed) { // close() ran while this exchange did
      close();
    }
  }

  private byte[] request(URI uri, byte[] body) {
    String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    String line = (body == null ? "GET " : "POST ") + target + " HTTP/1.1\r\n";
    String tail =
        body == null
            ? "\r\n"
            : "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n";
    ByteArrayOutputStream out =
        new ByteArrayOutputStream(256 + commonHead.length + (body == null ? 0 : body.length));
    out.writeBytes(line.getBytes(StandardCharsets.ISO_8859_1));
    out.writeBytes(commonHead);
    out.writeBytes(tail.getBytes(StandardCharsets.ISO_8859_1));
    if (body != null) {
      out.writeBytes(body);
    }
    return out.toByteArray();
  }

  /** Closes the idle connections; the client still works, without keeping connections. */
  @Override
  public void close() {
    closed = true;
    for (Connection c; (c = idle.pollFirst()) != null; ) {
      c.close();
    }
  }

  /** One TCP connection, used by one exchange at a time. */
  private static final class Connection {
    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private ByteBuffer in = ByteBuffer.allocate(16 * 1024).flip();
    boolean reusable;

    /** Whether any byte of the current exchange's answer came. */
    boolean answered;

    private Connection(SocketChannel channel, Selector selector) throws IOException {
      this.channel = channel;
      this.selector = selector;
      try {
        this.key = channel.register(selector, 0);
      } catch (IOException | RuntimeException e) {
        selector.close();
        throw e;
      }
    }

    static Connection open(InetSocketAddress address, Duration connectTimeout, long deadline)
        throws IOException, InterruptedException {
      if (address.isUnresolved()) {
        throw new IOException("unknown host " + address.getHostString());
      }
      SocketChannel channel = SocketChannel.open();
      Connection c;
      try {
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        c = new Connection(channel, Selector.open());
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
      try {
        if (!channel.connect(address)) {
          long connectBy = Math.min(deadline, System.nanoTime() + connectTimeout.toNanos());
          while (!channel.finishConnect()) {
            if (c.await(SelectionKey.OP_CONNECT, connectBy) == 0) {
              throw new HttpConnectTimeoutException("connect to " + address + " timed out");
            }
          }
        }
        return c;
      } catch (IOException e) {
        c.close();
        throw interruptedOr(e);
      } catch (InterruptedException | RuntimeException e) {
        c.close();
        throw e;
      }
    }

    /** False when the server closed this idle connection (or sent what no one asked for). */
    boolean stillOpen() {
      try {
        return !in.hasRemaining() && channel.read(ByteBuffer.allocate(1)) == 0;
      } catch (IOException e) {
        return false;
      }
    }

    Answer exchange(byte[] request, long deadline) throws IOException, InterruptedException {
      answered = false;
      reusable = false;
      try {
        boolean sent = send(request, deadline);
        Answer answer = answer(deadline);
        reusable &= sent;
        return answer;
      } catch (IOException e) {
        throw interruptedOr(e);
      }
    }

    /**
     * Writes the request; false when the server answered before taking all of it (a body too large
     * for it), its answer then waiting to be read.
     */
    private boolean send(byte[] request, long deadline) throws IOException, InterruptedException {
      try {
        for (int at = 0; at < request.length; ) {
          int n = channel.write(ByteBuffer.wrap(request, at, Math.min(SLICE, request.length - at)));
          at += n;
          if (n == 0) {
            int ready = await(SelectionKey.OP_WRITE | SelectionKey.OP_READ, deadline);
            if (ready == 0) {
              throw new HttpTimeoutException("request timed out");
            }
            if ((ready & SelectionKey.OP_READ) != 0) {
              return false;
            }
          }
        }
        return true;
      } catch (IOException e) {
        if (e instanceof HttpTimeoutException || e instanceof ClosedByInterruptException) {
          throw e;
        }
        // the server may have answered, then closed: its answer can still be in the socket
        try {
          if (channel.read(in.compact()) > 0) {
            answered = true;
            return false;
          }
        } catch (IOException ignored) {
          // nothing came: the write's failure is the cause
        } finally {
          in.flip();
        }
        throw e;
      }
    }

    private Answer answer(long deadline) throws IOException, InterruptedException {
      while (true) {
        String statusLine = line(deadline);
        if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) {
          throw new IOException("not an HTTP/1.x answer: " + abbreviated(statusLine));
        }
        int status;
        try {
          status = Integer.parseInt(statusLine.substring(9, 12));
        } catch (NumberFormatException e) {
          throw new IOException("not an HTTP/1.x status line: " + abbreviated(statusLine));
        }
        Map<String, String> headers = new HashMap<>();
        for (String h = line(deadline); !h.isEmpty(); h = line(deadline)) {
          int colon = h.indexOf(':');
          if (colon <= 0 || Character.isWhitespace(h.charAt(colon - 1))) {
            throw new IOException("malformed header line: " + abbreviated(h));
          }
          String name = h.substring(0, colon).toLowerCase(Locale.ROOT);
          headers.merge(name, h.substring(colon + 1).trim(), (a, b) -> a + ", " + b);
        }
        if (status >= 100 && status < 200) {
          continue; // an interim answer; the final one follows
        }
        String connection = headers.getOrDefault("connection", "").toLowerCase(Locale.ROOT);
        boolean keepAlive = statusLine.startsWith("HTTP/1.1") && !connection.contains("close");
        String transfer = headers.get("transfer-encoding");
        String length = headers.get("content-length");
        byte[] body;
        if (status == 204 || status == 304) {
          body = new byte[0];
        } else if (transfer != null) {
          // RFC 9112 6.3: a Transfer-Encoding wins over a Content-Length; without chunked last, the
          // answer ends when the connection does
          boolean chunked = transfer.toLowerCase(Locale.ROOT).strip().endsWith("chunked");
          body = chunked ? chunked(deadline) : untilClosed(deadline);
          keepAlive &= chunked && length == null;
        } else if (length != null) {
          body = exactly(contentLength(length), deadline);
        } else {
          body = untilClosed(deadline);
          keepAlive = false;
        }
        reusable = keepAlive && !in.hasRemaining();
        return new Answer(status, headers, body);
      }
    }

    /** A Content-Length; repeats must agree (RFC 9112 6.3). */
    private static int contentLength(String value) throws IOException {
      try {
        long n = -1;
        for (String v : value.split(",")) {
          long each = Long.parseLong(v.trim());
          if (n != -1 && each != n) {
            throw new IOException("Content-Length values that differ: " + value);
          }
          n = each;
        }
        if (n < 0 || n > Integer.MAX_VALUE - 64) {
          throw new IOException("unusable Content-Length: " + value);
        }
        return (int) n;
      } catch (NumberFormatException e) {
        throw new IOException("unusable Content-Length: " + value);
      }
    }

    private byte[] chunked(long deadline) throws IOException, InterruptedException {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      while (true) {
        String sizeLine = line(deadline);
        int semicolon = sizeLine.indexOf(';');
        String hex = (semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim();
        int size;
        try {
          size = Integer.parseInt(hex, 16);
        } catch (NumberFormatException e) {
          throw new IOException("malformed chunk size: " + abbreviated(sizeLine));
        }
        if (size < 0 || body.size() > Integer.MAX_VALUE - 64 - size) {
          throw new IOException("answer too large");
        }
        if (size == 0) {
          while (!line(deadline).isEmpty()) {
            // trailers: nothing here needs them
          }
          return body.toByteArray();
        }
        body.writeBytes(exactly(size, deadline));
        if (!line(deadline).isEmpty()) {
          throw new IOException("a chunk did not end where its size said");
        }
      }
    }

    /** {@code n} bytes; the array grows as they come, so a wrong Content-Length costs nothing. */
    private byte[] exactly(int n, long deadline) throws IOException, InterruptedException {
      byte[] bytes = new byte[Math.min(n, 1 << 20)];
      int have = Math.min(n, in.remaining());
      if (have > bytes.length) {
        bytes = new byte[have];
      }
      in.get(bytes, 0, have);
      while (have < n) {
        if (have == bytes.length) {
          bytes = java.util.Arrays.copyOf(bytes, (int) Math.min(n, 2L * bytes.length));
        }
        ByteBuffer rest = ByteBuffer.wrap(bytes, have, Math.min(SLICE, bytes.length - have));
        if (!read(rest, deadline)) {
          throw new IOException("connection closed after " + have + " of " + n + " bytes");
        }
        have = rest.position();
      }
      return bytes;
    }

    private byte[] untilClosed(long deadline) throws IOException, InterruptedException {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      do {
        body.write(in.array(), in.arrayOffset() + in.position(), in.remaining());
        in.position(in.limit());
      } while (fill(deadline));
      return body.toByteArray();
    }

    /** One line without its CRLF (or LF), ISO-8859-1. */
    private String line(long deadline) throws IOException, InterruptedException {
      int scanned = 0;
      while (true) {
        for (int i = in.position() + scanned; i < in.limit(); i++) {
          if (in.get(i) == '\n') {
            int end = i > in.position() && in.get(i - 1) == '\r' ? i - 1 : i;
            String s =
                new String(
                    in.array(),
                    in.arrayOffset() + in.position(),
                    end - in.position(),
                    StandardCharsets.ISO_8859_1);
            in.position(i + 1);
            return s;
          }
        }
        scanned = in.remaining();
        if (scanned >= MAX_LINE) {
          throw new IOException("a header line longer than " + MAX_LINE + " bytes");
        }
        if (!fill(deadline)) {
          throw new IOException(
              answered
                  ? "connection closed in the answer's head"
                  : "connection closed by the server");
        }
      }
    }

    /** Reads more into the buffer; false at end of stream. */
    private boolean fill(long deadline) throws IOException, InterruptedException {
      in.compact();
      if (!in.hasRemaining()) {
        ByteBuffer bigger = ByteBuffer.allocate(in.capacity() * 2);
        in.flip();
        bigger.put(in);
        in = bigger;
      }
      try {
        return read(in, deadline);
      } finally {
        in.flip();
      }
    }

    /**
     * Reads at least one byte into {@code to}; false at end of stream. Fills of a buffer larger
     * than {@link #SLICE} come in slices of it (see there).
     */
    private boolean read(ByteBuffer to, long deadline) throws IOException, InterruptedException {
      int limit = to.limit();
      to.limit(Math.min(limit, to.position() + SLICE));
      try {
        while (true) {
          int n = channel.read(to);
          if (n > 0) {
            answered = true;
            if (System.nanoTime() - deadline > 0) { // an answer that would not end
              throw new HttpTimeoutException("request timed out");
            }
            return true;
          }
          if (n < 0) {
            return false;
          }
          if (await(SelectionKey.OP_READ, deadline) == 0) {
            throw new HttpTimeoutException("request timed out");
          }
        }
      } finally {
        to.limit(limit);
      }
    }

    /**
     * Waits until the channel is ready for one of {@code ops}; returns those it is ready for, 0
     * when the deadline passed first.
     */
    private int await(int ops, long deadline) throws IOException, InterruptedException {
      key.interestOps(ops);
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return 0;
        }
        int ready = selector.select(Math.max(1, left / 1_000_000));
        selector.selectedKeys().clear();
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
        if (ready > 0) {
          return key.readyOps() & ops;
        }
      }
    }

    /**
     * An interrupt in a channel's call closes the channel and shows as an IOException: throws it as
     * what it is, else returns {@code e} to be thrown.
     */
    private static IOException interruptedOr(IOException e) throws InterruptedException {
      if (e instanceof ClosedByInterruptException) {
        Thread.interrupted();
        InterruptedException interrupted = new InterruptedException();
        interrupted.initCause(e);
        throw interrupted;
      }
      return e;
    }

    private static String abbreviated(String s) {
      return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    void close() {
      try {
        selector.close();
      } catch (IOException e) {
        // nothing to keep
      }
      try {
        channel.close();
      } catch (IOException e) {
        // nothing to keep
      }
    }
  }
}

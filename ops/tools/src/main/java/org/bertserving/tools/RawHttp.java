package org.bertserving.tools;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * One keep-alive HTTP/1.1 connection to 127.0.0.1 over a plain socket, one request at a time: the
 * load generator's client, as lean as a client can be (the JDK's HttpClient spends several times
 * more CPU a request, CPU the frontend under test shares on a small machine). Each request goes in
 * one write with {@code TCP_NODELAY}; a connection the server closed is opened again.
 */
final class RawHttp implements AutoCloseable {
  private final int port;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private long retries;

  /** A response: status, {@code Content-Type} and body. */
  record Response(int status, String contentType, byte[] body) {}

  RawHttp(int port) {
    this.port = port;
  }

  /** POSTs {@code body} with {@code headers} ("Name: value\r\n" lines); reads the whole answer. */
  Response post(String path, String headers, byte[] body) throws IOException {
    byte[] head =
        ("POST "
                + path
                + " HTTP/1.1\r\nHost: 127.0.0.1:"
                + port
                + "\r\nContent-Type: application/json\r\n"
                + headers
                + "Content-Length: "
                + body.length
                + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1);
    byte[] request = new byte[head.length + body.length];
    System.arraycopy(head, 0, request, 0, head.length);
    System.arraycopy(body, 0, request, head.length, body.length);
    boolean reused = socket != null;
    try {
      return exchange(request);
    } catch (NotAnswered e) {
      close();
      if (!reused) {
        throw e;
      }
      retries++;
      return exchange(request); // the server had closed this idle connection: once on a new one
    } catch (IOException e) {
      close();
      throw e;
    }
  }

  private Response exchange(byte[] request) throws IOException {
    connect();
    try {
      out.write(request);
      out.flush();
    } catch (java.net.SocketException e) {
      throw new NotAnswered(e.getMessage());
    }
    return read();
  }

  /** Requests sent again because a kept-alive connection turned out closed (not answered). */
  long retries() {
    return retries;
  }

  /** The connection ended before the first byte of an answer. */
  private static final class NotAnswered extends IOException {
    private static final long serialVersionUID = 1L;

    NotAnswered(String message) {
      super(message);
    }
  }

  private void connect() throws IOException {
    if (socket == null) {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      socket.setSoTimeout(120_000);
      in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
      out = socket.getOutputStream();
    }
  }

  private Response read() throws IOException {
    int first;
    try {
      first = in.read();
    } catch (java.net.SocketException e) {
      throw new NotAnswered(e.getMessage());
    }
    if (first < 0) {
      throw new NotAnswered("connection closed by the server before an answer");
    }
    String status = (char) first + line();
    if (!status.startsWith("HTTP/1.1 ") || status.length() < 12) {
      throw new IOException("not an HTTP/1.1 status line: " + status);
    }
    int code = Integer.parseInt(status.substring(9, 12));
    long length = -1;
    boolean chunked = false;
    boolean closes = false;
    String type = "";
    for (String h = line(); !h.isEmpty(); h = line()) {
      int colon = h.indexOf(':');
      String name = h.substring(0, Math.max(0, colon)).trim().toLowerCase(java.util.Locale.ROOT);
      String value = h.substring(colon + 1).trim();
      switch (name) {
        case "content-length" -> length = Long.parseLong(value);
        case "content-type" -> type = value;
        case "transfer-encoding" ->
            chunked = value.toLowerCase(java.util.Locale.ROOT).contains("chunked");
        case "connection" -> closes = value.equalsIgnoreCase("close");
        default -> {}
      }
    }
    byte[] body;
    if (chunked) {
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      for (int size = chunkSize(); size > 0; size = chunkSize()) {
        all.write(in.readNBytes(size));
        line();
      }
      for (String trailer = line(); !trailer.isEmpty(); trailer = line()) {
        // trailers: none expected, skipped
      }
      body = all.toByteArray();
    } else if (length >= 0) {
      body = in.readNBytes((int) length);
      if (body.length != length) {
        throw new IOException(
            "connection closed after " + body.length + " of " + length + " bytes");
      }
    } else {
      body = in.readAllBytes();
      closes = true;
    }
    if (closes) {
      close();
    }
    return new Response(code, type, body);
  }

  private int chunkSize() throws IOException {
    String size = line();
    int semicolon = size.indexOf(';');
    return Integer.parseInt((semicolon >= 0 ? size.substring(0, semicolon) : size).trim(), 16);
  }

  private String line() throws IOException {
    StringBuilder s = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new IOException("connection closed by the server");
      }
      if (c != '\r') {
        s.append((char) c);
      }
    }
    return s.toString();
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      socket = null;
    }
  }
}

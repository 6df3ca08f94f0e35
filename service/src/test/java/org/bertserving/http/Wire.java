package org.bertserving.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.awaitility.Awaitility;

/**
 * The tests' one HTTP helper: requests with exactly the method, headers and body a client sends, on
 * the JDK's client, and the bodies and waits every HTTP test needs.
 */
public final class Wire {
  public static final ObjectMapper JSON = new ObjectMapper();
  public static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private Wire() {}

  /**
   * @param body {@code null} for none
   * @param headers name, value, name, value...
   */
  public static HttpResponse<String> send(String method, String url, String body, String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(60))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return CLIENT.send(b.build(), Wire::body);
  }

  /** The body as text, unzipped when the server gzip'ed it (as clients that ask for it do). */
  private static HttpResponse.BodySubscriber<String> body(HttpResponse.ResponseInfo info) {
    boolean gzip =
        info.headers().firstValue("Content-Encoding").orElse("").equalsIgnoreCase("gzip");
    return HttpResponse.BodySubscribers.mapping(
        HttpResponse.BodySubscribers.ofByteArray(),
        bytes -> {
          try {
            byte[] plain =
                gzip
                    ? new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(bytes))
                        .readAllBytes()
                    : bytes;
            return new String(plain, java.nio.charset.StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
  }

  /** A POST of JSON, as every JSON client sends it. */
  public static HttpResponse<String> post(String url, String body, String... headers)
      throws IOException, InterruptedException {
    return send("POST", url, body, withJson(headers));
  }

  /** {@link #post} without waiting: for requests that must be in flight together. */
  public static CompletableFuture<HttpResponse<String>> postAsync(String url, String body) {
    return CLIENT.sendAsync(
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(120))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        Wire::body);
  }

  private static String[] withJson(String... headers) {
    String[] all = new String[headers.length + 2];
    all[0] = "Content-Type";
    all[1] = "application/json";
    System.arraycopy(headers, 0, all, 2, headers.length);
    return all;
  }

  public static HttpResponse<String> get(String url, String... headers)
      throws IOException, InterruptedException {
    return send("GET", url, null, headers);
  }

  public static JsonNode json(HttpResponse<String> response) throws IOException {
    return JSON.readTree(response.body());
  }

  /** An {@code /encode} body of these texts. */
  public static String encodeBody(List<String> texts) {
    try {
      return JSON.writeValueAsString(Map.of("texts", texts));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** An {@code /encode} body of {@code n} copies of {@code text}. */
  public static String encodeBody(int n, String text) {
    return encodeBody(Collections.nCopies(n, text));
  }

  /** Waits (polling) until the node at {@code base} answers {@code /ready} with 200. */
  public static void awaitReady(String base) {
    awaitReady(base, Duration.ofSeconds(60));
  }

  /** {@link #awaitReady(String)} for a node that may take longer (a child JVM, XLA). */
  public static void awaitReady(String base, Duration within) {
    Awaitility.await("server at " + base + " ready")
        .atMost(within)
        .pollInterval(Duration.ofMillis(100))
        .ignoreException(IOException.class) // not bound yet
        .until(() -> get(base + "/ready").statusCode() == 200);
  }

  /** A POST of JSON whose answer is kept as bytes (binary answers). */
  static HttpResponse<byte[]> postForBytes(String url, String body, String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** A NumPy {@code .npy} file (format 1.0, {@code <f4}) as read back: its shape, its floats. */
  record NpyFile(int[] shape, float[] data) {
    static NpyFile read(byte[] bytes) {
      java.nio.ByteBuffer in =
          java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      byte[] magic = new byte[6];
      in.get(magic);
      if (magic[0] != (byte) 0x93
          || !new String(magic, 1, 5, java.nio.charset.StandardCharsets.US_ASCII).equals("NUMPY")
          || in.get() != 1
          || in.get() != 0) {
        throw new AssertionError("not a .npy file of format 1.0");
      }
      int length = Short.toUnsignedInt(in.getShort());
      String header = new String(bytes, 10, length, java.nio.charset.StandardCharsets.US_ASCII);
      if ((10 + length) % 64 != 0 || !header.endsWith("\n")) {
        throw new AssertionError("header not padded to 64 bytes: " + header);
      }
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile(
                  "\\{'descr': '<f4', 'fortran_order': False, 'shape': \\(([0-9, ]+)\\), \\} *\n")
              .matcher(header);
      if (!m.matches()) {
        throw new AssertionError("unexpected header: " + header);
      }
      int[] shape =
          java.util.Arrays.stream(m.group(1).split(","))
              .map(String::trim)
              .filter(x -> !x.isEmpty())
              .mapToInt(Integer::parseInt)
              .toArray();
      in.position(10 + length);
      float[] data = new float[in.remaining() / 4];
      in.asFloatBuffer().get(data);
      if (java.util.Arrays.stream(shape).asLongStream().reduce(1, (a, b) -> a * b) != data.length) {
        throw new AssertionError("shape " + m.group(1) + " but " + data.length + " floats");
      }
      return new NpyFile(shape, data);
    }
  }

  /** The value of one Prometheus sample line, or 0 when it is not there. */
  static double metric(String metrics, String sample) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Double.parseDouble(line.substring(sample.length() + 1).trim());
      }
    }
    return 0;
  }
}

package org.bertserving.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Requests with exactly the method, headers and body a client sends, on the JDK's client. */
final class Wire {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private Wire() {}

  /**
   * @param body {@code null} for none
   * @param headers name, value, name, value...
   */
  static HttpResponse<String> send(String method, String url, String body, String... headers)
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
  static HttpResponse<String> post(String url, String body, String... headers)
      throws IOException, InterruptedException {
    String[] all = new String[headers.length + 2];
    all[0] = "Content-Type";
    all[1] = "application/json";
    System.arraycopy(headers, 0, all, 2, headers.length);
    return send("POST", url, body, all);
  }

  static HttpResponse<String> get(String url, String... headers)
      throws IOException, InterruptedException {
    return send("GET", url, null, headers);
  }

  static JsonNode json(HttpResponse<String> response) throws IOException {
    return JSON.readTree(response.body());
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

package org.bertserving.http;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * The {@code bert-serving.http} keys the routes need, read once at start: a bad value (a key file
 * or a certificate that cannot be read) fails the start naming the key and its flag.
 *
 * @param corsOrigins origins browsers may call from ({@code -cors}); empty = no CORS at all, {@code
 *     ["*"]} = any
 * @param tls the HTTPS context of {@code -tls_cert}/{@code -tls_key}, or {@code null} for HTTP
 * @param drainBytes how much of a body over {@code maxBodyBytes} is read and thrown away before the
 *     413, so that clients that send the whole body before reading (Python's) read the answer
 * @param maxClientBatchSize text-embeddings-inference's limit on inputs per request
 * @param autoTruncate the default of text-embeddings-inference's {@code truncate}
 */
public record HttpSettings(
    List<String> corsOrigins,
    ApiKeys apiKeys,
    SSLContext tls,
    long maxBodyBytes,
    long drainBytes,
    int maxClientBatchSize,
    boolean autoTruncate) {

  public static HttpSettings create(Config root) {
    Config h = root.getConfig("bert-serving.http");
    try {
      List<String> keys = new ArrayList<>(split(h.getString("api-key")));
      String keyFile = h.getString("api-key-file").trim();
      if (!keyFile.isEmpty()) {
        keys.addAll(keyFile(Path.of(keyFile)));
      }
      String cert = h.getString("tls.cert").trim();
      String key = h.getString("tls.key").trim();
      if (cert.isEmpty() != key.isEmpty()) {
        throw new IllegalArgumentException(
            "bert-serving.http.tls: -tls_cert and -tls_key go together");
      }
      SSLContext tls = cert.isEmpty() ? null : Tls.serverContext(Path.of(cert), Path.of(key));
      HttpSettings s =
          new HttpSettings(
              split(h.getString("cors")),
              new ApiKeys(keys),
              tls,
              h.getBytes("max-body-bytes"),
              h.getBytes("drain-bytes"),
              h.getInt("tei.max-client-batch-size"),
              h.getBoolean("tei.auto-truncate"));
      if (s.drainBytes < s.maxBodyBytes) {
        throw new IllegalArgumentException(
            "bert-serving.http.drain-bytes must be at least max-body-bytes");
      }
      if (s.maxClientBatchSize < 1) {
        throw new IllegalArgumentException(
            "bert-serving.http.tei.max-client-batch-size must be >= 1");
      }
      return s;
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** A comma-separated list, blanks dropped. */
  private static List<String> split(String value) {
    return Arrays.stream(value.split(",")).map(String::trim).filter(v -> !v.isEmpty()).toList();
  }

  /** One key a line; blank lines and {@code #} comments are skipped. */
  private static List<String> keyFile(Path file) {
    try {
      return Files.readAllLines(file).stream()
          .map(String::trim)
          .filter(l -> !l.isEmpty() && !l.startsWith("#"))
          .toList();
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "bert-serving.http.api-key-file (-api_key_file) "
              + file
              + ": cannot read it ("
              + e.getMessage()
              + ")",
          e);
    }
  }

  public boolean https() {
    return tls != null;
  }
}

package org.bertserving.tools;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a {@link SimulatedCluster} asks its frontends over HTTP: workers seen, workers' busy time.
 */
final class FrontendProbe {
  private static final Pattern NUM_WORKERS = Pattern.compile("\"num_workers\"\\s*:\\s*(\\d+)");

  private final HttpClient http = HttpClient.newHttpClient();

  /**
   * The workers the frontend on {@code port} counts (every model's); -1 when it does not answer.
   */
  int workersSeen(int port) {
    try {
      Matcher m = NUM_WORKERS.matcher(get(port, "/status/server"));
      return m.find() ? Integer.parseInt(m.group(1)) : -1;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /**
   * The workers' busy seconds and TensorFlow runs so far, summed over the frontends' {@code
   * /metrics}.
   */
  double[] workerBusy(List<Integer> ports) {
    double[] sums = new double[2];
    for (int port : ports) {
      try {
        double[] node = SpeedTargets.busyAndTfRuns(get(port, "/metrics"));
        sums[0] += node[0];
        sums[1] += node[1];
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("GET :" + port + "/metrics", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    return sums;
  }

  private String get(int port, String path) throws IOException, InterruptedException {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}

package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM ends a node within a bound even when its device never finishes a run: TensorFlow's
 * session close waits for the run in progress, for ever on a hung device, and the node used to wait
 * with it (the JVM never exited).
 */
class GracefulStopTest {

  @Test
  void aNodeStoppedDuringARunThatNeverEndsExitsZero() throws Exception {
    List<String> jvm =
        List.of(
            "-Xmx384m",
            "-Dbert-serving.engine.backend=" + HungRunBackend.class.getName(),
            // the request in flight fails (504) soon, so the graceful phases end soon too
            "-Dbert-serving.frontend.request-timeout=3s");
    try (NodeProcess node =
        NodeProcess.start(
            "hung-run",
            NodeProcess.ownClasspath(),
            jvm,
            ExitCodesTest.node(0, 0),
            ExitCodesTest.LOGS)) {
      int port = node.ports(Duration.ofMinutes(2)).http();
      HttpClient http = HttpClient.newHttpClient();
      Awaitility.await()
          .atMost(Duration.ofMinutes(1))
          .until(() -> get(http, port, "/ready") == 200);
      http.sendAsync(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/encode"))
              .header("Content-Type", "application/json")
              .POST(
                  HttpRequest.BodyPublishers.ofString(
                      "{\"texts\": [\"new " + HungRunBackend.HANG_ON + "\"]}"))
              .build(),
          HttpResponse.BodyHandlers.discarding());
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> node.output().contains(HungRunBackend.HANGING));

      // killed (137) if still there after 60 s
      int exit = node.stop(Duration.ofSeconds(60));

      assertEquals(0, exit, "exited by itself, 0: " + node.output());
      assertTrue(
          node.output().contains("a TensorFlow run still in progress"),
          "says what it left running: " + node.output());
    }
  }

  private static int get(HttpClient http, int port, String path) {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (java.io.IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}

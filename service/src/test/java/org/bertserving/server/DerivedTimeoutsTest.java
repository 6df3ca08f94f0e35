package org.bertserving.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.bertserving.cluster.ServingSettings;
import org.junit.jupiter.api.Test;

/**
 * One timeout: akka-http's request and idle timeouts and the graceful-shutdown phase follow {@code
 * bert-serving.frontend.request-timeout}, whatever it is (a request timeout above akka-http's own
 * used to lose to it: a plain-text 503 and work computed for nobody).
 */
class DerivedTimeoutsTest {

  static Config derived(String requestTimeout) {
    Config config =
        TestNodes.node(
            List.of("frontend", "worker"),
            0,
            false,
            Map.of("bert-serving.frontend.request-timeout", requestTimeout));
    return BertServer.derived(config, ServingSettings.create(config));
  }

  @Test
  void everyTimeoutFollowsTheRequestTimeout() {
    Config long_ = derived("80s");
    assertEquals(
        Duration.ofSeconds(90),
        long_.getDuration("akka.http.server.request-timeout"),
        "akka-http answers after the frontend (80 s) and its ask (85 s) would have");
    assertEquals(Duration.ofSeconds(120), long_.getDuration("akka.http.server.idle-timeout"));
    assertEquals(
        Duration.ofSeconds(85),
        long_.getDuration("akka.coordinated-shutdown.phases.service-requests-done.timeout"),
        "a graceful stop waits for requests in flight");

    Config longer = derived("10m");
    assertEquals(
        Duration.ofSeconds(615),
        longer.getDuration("akka.http.server.idle-timeout"),
        "a connection waiting for its answer is never closed as idle");

    Config short_ = derived("2s");
    assertEquals(Duration.ofSeconds(12), short_.getDuration("akka.http.server.request-timeout"));
    assertEquals(Duration.ofSeconds(120), short_.getDuration("akka.http.server.idle-timeout"));
  }
}

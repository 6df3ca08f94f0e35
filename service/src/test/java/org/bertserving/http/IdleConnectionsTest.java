package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/**
 * 1,000 idle connections do not stop new requests, and the probes on the management port answer
 * even when the request port is saturated.
 */
class IdleConnectionsTest {
  static final int IDLE = 1000;

  @Test
  void newRequestsAndProbesAnswerAtOnceWithAThousandIdleConnections() throws Exception {
    List<Socket> idle = new ArrayList<>();
    try (BertServer server = TestNodes.serving(Map.of())) {
      int http = server.httpPort();
      int management = server.ports().management();
      String base = "http://127.0.0.1:" + http;
      Wire.awaitReady(base);
      for (int i = 0; i < IDLE; i++) {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", http), 5000);
        idle.add(s);
      }
      // a fresh client: its own new connection, past the thousand idle ones
      HttpClient fresh = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      long start = System.nanoTime();
      HttpResponse<String> r =
          fresh.send(
              HttpRequest.newBuilder(URI.create(base + "/encode"))
                  .timeout(Duration.ofSeconds(5))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"texts\": [\"hello world\"]}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      for (String probe : List.of("/health", "/ready", "/metrics")) {
        assertEquals(200, get(fresh, "http://127.0.0.1:" + management + probe).statusCode(), probe);
        assertEquals(200, get(fresh, base + probe).statusCode(), probe);
      }
      assertTrue(System.nanoTime() - start < 5_000_000_000L, "at once");
    } finally {
      for (Socket s : idle) {
        s.close();
      }
    }
  }

  @Test
  void theManagementPortAnswersWhenTheRequestPortIsFull() throws Exception {
    List<Socket> idle = new ArrayList<>();
    try (BertServer server = TestNodes.serving(Map.of("bert-serving.http.max-connections", 20))) {
      int http = server.httpPort();
      int management = server.ports().management();
      Wire.awaitReady("http://127.0.0.1:" + http);
      for (int i = 0; i < 50; i++) {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", http), 5000);
        idle.add(s);
      }
      HttpClient fresh = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      for (String probe : List.of("/health", "/ready", "/metrics")) {
        assertEquals(200, get(fresh, "http://127.0.0.1:" + management + probe).statusCode(), probe);
      }
    } finally {
      for (Socket s : idle) {
        s.close();
      }
    }
  }

  static HttpResponse<String> get(HttpClient client, String uri) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(3)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}

package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Errors over real HTTP in each route family's shape, with the statuses each family's clients
 * expect; errors the HTTP layer makes are counted in /metrics; nothing of akka or Jackson leaks.
 */
class ApiErrorsTest {
  static BertServer server;
  static String base;

  /** A route family: where its encode route is and how its body names the texts. */
  record Family(Dialect dialect, String path, String field) {
    String body(List<String> texts) throws Exception {
      return Wire.JSON.writeValueAsString(Map.of(field, texts));
    }
  }

  static final List<Family> FAMILIES =
      List.of(
          new Family(Dialect.BERT, "/encode", "texts"),
          new Family(Dialect.OPENAI, "/v1/embeddings", "input"),
          new Family(Dialect.TEI, "/embed", "inputs"));

  @BeforeAll
  static void start() throws Exception {
    server =
        TestNodes.serving(
            Map.of(
                "bert-serving.frontend.max-pending-rows",
                2,
                "bert-serving.frontend.request-timeout",
                "1500ms"));
    base = "http://127.0.0.1:" + server.httpPort();
    Wire.awaitReady(base);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /**
   * The family's shape, the status, our type (or OpenAI's code, TEI's error_type); no internals.
   */
  static JsonNode assertError(Dialect dialect, HttpResponse<String> r, int status, String type)
      throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""), r.body());
    for (String internal :
        List.of("akka.", "jackson", "fasterxml", "scala", "exception", "java.")) {
      assertFalse(
          r.body().toLowerCase(Locale.ROOT).contains(internal), internal + " in " + r.body());
    }
    JsonNode body = Wire.json(r);
    switch (dialect) {
      case BERT -> {
        assertEquals(status, body.get("status").asInt(), r.body());
        assertEquals(type, body.get("type").asText(), r.body());
        assertFalse(body.get("description").asText().isBlank());
      }
      case OPENAI -> {
        JsonNode error = body.get("error");
        assertFalse(error.get("message").asText().isBlank(), r.body());
        assertTrue(error.has("param") && error.has("type"), r.body());
        assertEquals(type, error.get("code").asText(), r.body());
      }
      case TEI -> {
        assertFalse(body.get("error").asText().isBlank(), r.body());
        assertEquals(type, body.get("error_type").asText(), r.body());
        assertEquals(2, body.size(), r.body());
      }
    }
    return body;
  }

  @Test
  void badRequestsAreAnsweredInEachFamilysShape() throws Exception {
    for (Family f : FAMILIES) {
      Dialect d = f.dialect();
      boolean tei = d == Dialect.TEI;
      String url = base + f.path();
      JsonNode invalid =
          assertError(
              d,
              Wire.post(url, "{\"" + f.field() + "\": [\"a\""),
              400,
              tei ? "Validation" : "invalid_json");
      String text =
          d == Dialect.TEI
              ? invalid.get("error").asText()
              : d == Dialect.OPENAI
                  ? invalid.get("error").get("message").asText()
                  : invalid.get("description").asText();
      assertTrue(text.contains("line 1, column"), text);
      assertError(d, Wire.post(url, "[1, 2]"), 400, tei ? "Validation" : "invalid_json");
      // a second object, or text, after the first: refused whole, never half read
      for (String after : List.of(f.body(List.of("b", "c")), " trailing")) {
        assertError(
            d,
            Wire.post(url, f.body(List.of("a")) + after),
            400,
            tei ? "Validation" : "invalid_json");
      }
      // a field given twice: refused, never the last one taken silently
      JsonNode twice =
          assertError(
              d,
              Wire.post(url, "{\"" + f.field() + "\": \"a\", \"" + f.field() + "\": [\"b\"]}"),
              400,
              tei ? "Validation" : "invalid_json");
      assertTrue(twice.toString().contains("'" + f.field() + "' is given twice"), twice.toString());
      assertError(d, Wire.post(url, "{}"), tei ? 422 : 400, tei ? "Validation" : "invalid_input");
      assertError(d, Wire.post(url, f.body(List.of())), 400, tei ? "Empty" : "invalid_input");
      assertError(
          d,
          Wire.post(url, "{\"" + f.field() + "\": [\"a\"], \"dimensions\": \"8\"}"),
          tei ? 422 : 400,
          tei ? "Validation" : "invalid_input");
      assertError(
          d,
          Wire.post(url, "{\"" + f.field() + "\": [\"a\"], \"dimensions\": 0}"),
          tei ? 413 : 400,
          tei ? "Validation" : "invalid_input");
      JsonNode media =
          assertError(
              d,
              Wire.send("POST", url, f.body(List.of("a")), "Content-Type", "text/plain"),
              415,
              "unsupported_media_type");
      assertTrue(
          media.toString().contains("application/json"), "names the expected type: " + media);
      HttpResponse<String> get = Wire.send("GET", url, null);
      assertError(d, get, 405, "method_not_allowed");
      assertEquals("POST", get.headers().firstValue("Allow").orElse(null));
    }
    assertError(Dialect.OPENAI, Wire.send("GET", base + "/v1/nothing", null), 404, "not_found");
    assertError(Dialect.BERT, Wire.send("GET", base + "/nothing", null), 404, "not_found");
    assertEquals(200, Wire.post(base + "/embed", "{\"inputs\": \"still works\"}").statusCode());
  }

  @Test
  void overloadTimeoutsAndEngineFailuresKeepTheirStatusInEveryShape() throws Exception {
    for (Family f : FAMILIES) {
      server.faults().forEach(fault -> fault.delay(2500));
      try {
        CompletableFuture<HttpResponse<String>> slow =
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return Wire.post(base + f.path(), f.body(List.of("the dog", "the cat")));
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                });
        TestNodes.await(() -> server.metrics().pendingRows.get() > 0, 10, "a request pending");
        HttpResponse<String> refused = Wire.post(base + f.path(), f.body(List.of("a")));
        assertError(
            f.dialect(),
            refused,
            429,
            switch (f.dialect()) {
              case BERT -> "overloaded";
              case OPENAI -> "rate_limit_exceeded";
              case TEI -> "Overloaded";
            });
        assertTrue(Integer.parseInt(refused.headers().firstValue("Retry-After").orElse("0")) >= 1);
        assertError(
            f.dialect(),
            slow.get(30, TimeUnit.SECONDS),
            504,
            f.dialect() == Dialect.TEI ? "Backend" : "timeout");
      } finally {
        server.faults().forEach(fault -> fault.reset());
      }
      TestNodes.await(() -> server.metrics().pendingRows.get() == 0, 10, "nothing pending");
    }
    // rows that fail on two engines: 500 (a worker restarts its session after each, waiting
    // longer each time, so one family only here; the others' mapping is in
    // errorsAreMappedInOnePlace)
    // the runs of the timed-out requests above are over once a new request is answered
    TestNodes.await(
        () -> Wire.post(base + "/embed", "{\"inputs\": \"drained\"}").statusCode() == 200,
        30,
        "the worker is done with earlier runs");
    server.faults().forEach(fault -> fault.poison("cat"));
    try {
      assertError(
          Dialect.OPENAI,
          Wire.post(base + "/v1/embeddings", "{\"input\": \"a cat\"}"),
          500,
          "engine_error");
    } finally {
      server.faults().forEach(fault -> fault.reset());
    }
    TestNodes.await(() -> Wire.get(base + "/ready").statusCode() == 200, 30, "ready again");
  }

  @Test
  void aFrontendWithoutWorkersAnswers503InEachShape() throws Exception {
    try (BertServer alone =
        TestNodes.start(TestNodes.node(List.of("frontend"), 0, true, Map.of()))) {
      int http = alone.httpPort();
      for (Family f : FAMILIES) {
        HttpResponse<String> r =
            Wire.post("http://127.0.0.1:" + http + f.path(), f.body(List.of("a")));
        assertError(f.dialect(), r, 503, f.dialect() == Dialect.TEI ? "Unhealthy" : "no_worker");
        assertTrue(r.headers().firstValue("Retry-After").isPresent());
      }
    }
  }

  @Test
  void aTwentyMegabyteBodyIsReadThenAnswered413AsPythonClientsExpect() throws Exception {
    // as urllib and requests do: the whole body first, then the answer is read
    byte[] body =
        ("{\"input\": [\"" + "a ".repeat(10_000_000) + "\"]}").getBytes(StandardCharsets.UTF_8);
    String answer = rawPost("/v1/embeddings", body.length, body);
    assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
    assertTrue(
        answer.contains("\"code\":\"too_large\"") && answer.contains("max-body-bytes"), answer);
    // declared larger than the server reads away (64 MiB): answered at once, connection closed
    String refused = rawPost("/encode", 100_000_000, new byte[0]);
    assertTrue(refused.startsWith("HTTP/1.1 413"), refused);
    assertTrue(refused.toLowerCase(Locale.ROOT).contains("connection: close"), refused);
  }

  @Test
  void aBodyThatCameWithItsHeadersAndAChunkedOneGetTheSameAnswers() throws Exception {
    // a small body written with its headers reaches the route whole, a chunked one as a stream:
    // each is read on a path of its own, and both must answer alike
    String[][] cases = {
      {"application/json", "{\"texts\": [\"hello world\"]}", "200", null},
      {"application/json", "{\"texts\": [\"a\"", "400", "invalid_json"},
      {"application/json", "[1, 2]", "400", "invalid_json"},
      {"application/json", "{\"texts\": [\"a\"]} {\"texts\": [\"b\"]}", "400", "invalid_json"},
      {"application/json", "{\"texts\": [\"a\"]}\n", "200", null},
      {"application/json", "", "400", "invalid_json"},
      {"text/plain", "{\"texts\": [\"a\"]}", "415", "unsupported_media_type"}
    };
    for (String[] c : cases) {
      for (boolean chunked : new boolean[] {false, true}) {
        String answer = rawExchange(c[0], c[1], chunked);
        String what = (chunked ? "chunked " : "whole ") + c[0] + " " + c[1] + ": " + answer;
        assertTrue(answer.startsWith("HTTP/1.1 " + c[2]), what);
        assertTrue(
            answer.contains(c[3] == null ? "\"result\":[[" : "\"type\":\"" + c[3] + "\""), what);
      }
    }
  }

  /**
   * A POST to /encode in one write (its body then comes with its headers) or chunked; the server
   * closes the connection after its answer.
   */
  static String rawExchange(String contentType, String body, boolean chunked) throws Exception {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    String head =
        "POST /encode HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: "
            + contentType
            + "\r\n"
            + (chunked
                ? "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(bytes.length) + "\r\n"
                : "Content-Length: " + bytes.length + "\r\n\r\n");
    ByteArrayOutputStream request = new ByteArrayOutputStream();
    request.write(head.getBytes(StandardCharsets.US_ASCII));
    request.write(bytes);
    if (chunked) {
      request.write(
          (bytes.length > 0 ? "\r\n0\r\n\r\n" : "\r\n").getBytes(StandardCharsets.US_ASCII));
    }
    try (Socket socket = new Socket("127.0.0.1", Integer.parseInt(base.replaceAll(".*:", "")))) {
      socket.setSoTimeout(60_000);
      socket.setTcpNoDelay(true);
      OutputStream out = socket.getOutputStream();
      out.write(request.toByteArray()); // one write: one segment on loopback
      out.flush();
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** A POST written whole on a plain socket before its answer is read. */
  static String rawPost(String path, long length, byte[] body) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", Integer.parseInt(base.replaceAll(".*:", "")))) {
      socket.setSoTimeout(60_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST "
                  + path
                  + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  + "Content-Length: "
                  + length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      byte[] buffer = new byte[8192];
      for (int n; (n = in.read(buffer)) > 0; ) {
        answer.write(buffer, 0, n);
        String text = answer.toString(StandardCharsets.UTF_8);
        if (text.contains("\r\n\r\n") && text.endsWith("}")) {
          break;
        }
      }
      return answer.toString(StandardCharsets.UTF_8);
    }
  }

  @Test
  void headOnProbesAndErrorsOfTheHttpLayerAreCounted() throws Exception {
    for (String probe : List.of("/ready", "/metrics", "/health")) {
      HttpResponse<String> head = Wire.send("HEAD", base + probe, null);
      assertEquals(200, head.statusCode(), probe);
      assertEquals("", head.body(), probe);
    }
    String before = Wire.get(base + "/metrics").body();
    Wire.send("GET", base + "/nothing", null);
    Wire.send("GET", base + "/encode", null);
    Wire.send("POST", base + "/encode", "{}", "Content-Type", "text/plain");
    Wire.post(base + "/encode", "not json");
    String after = Wire.get(base + "/metrics").body();
    for (String status : List.of("404", "405", "415", "400")) {
      String sample = "bert_replies_total{status=\"" + status + "\"}";
      assertEquals(
          Wire.metric(before, sample) + 1, Wire.metric(after, sample), sample + "\n" + after);
    }
  }

  @Test
  void errorsAreMappedInOnePlace() throws Exception {
    // status, our type -> TEI's status and error_type (as TEI 1.8: validation is 413)
    Object[][] tei = {
      {400, "empty", 400, "Empty"}, {400, "invalid_input", 413, "Validation"},
      {413, "too_large", 413, "Validation"}, {429, "overloaded", 429, "Overloaded"},
      {500, "engine_error", 424, "Backend"}, {503, "no_worker", 503, "Unhealthy"},
      {504, "timeout", 504, "Backend"}, {401, "unauthorized", 401, "unauthorized"},
      {415, "unsupported_media_type", 415, "unsupported_media_type"}
    };
    for (Object[] row : tei) {
      var r = Errors.render(Dialect.TEI, ApiError.of((int) row[0], (String) row[1], "m"));
      assertEquals(row[2], r.status().intValue(), row[1].toString());
      assertTrue(
          ((akka.http.javadsl.model.HttpEntity.Strict) r.entity())
              .getData()
              .utf8String()
              .contains("\"error_type\":\"" + row[3] + "\""),
          row[1].toString());
    }
    var field = Errors.render(Dialect.TEI, ApiError.field("normalize", "m"));
    assertEquals(
        422, field.status().intValue(), "a field of the wrong type, as TEI's JSON extractor");
    for (int status : new int[] {400, 401, 413, 415, 429, 500, 503, 504}) {
      var openAi = Errors.render(Dialect.OPENAI, ApiError.of(status, "t", "m"));
      assertEquals(status, openAi.status().intValue(), "OpenAI keeps our statuses");
      var bert = Errors.render(Dialect.BERT, ApiError.of(status, "t", "m"));
      assertEquals(status, bert.status().intValue());
    }
    var unauthorized = Errors.render(Dialect.OPENAI, ApiError.of(401, "unauthorized", "m"));
    assertTrue(unauthorized.getHeader("WWW-Authenticate").isPresent());
  }
}

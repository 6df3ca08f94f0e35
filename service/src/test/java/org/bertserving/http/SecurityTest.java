package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bertserving.cli.StartArgs;
import org.bertserving.server.BertServer;
import org.bertserving.server.NodeConfig;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Safe by default: API keys on every route but the probes, metrics and the status page's files, on
 * both ports, in each family's shape; CORS only for the origins named, tried from an allowed and a
 * foreign origin.
 */
class SecurityTest {
  static final String APP = "https://app.example";
  @TempDir static Path tmp;
  static BertServer server;
  static String base;
  static String management;

  /** A protected route: method, path, body (or null), its family. */
  record Call(String method, String path, String body, Dialect dialect) {}

  static final List<Call> PROTECTED =
      List.of(
          new Call("POST", "/encode", "{\"texts\": [\"a\"]}", Dialect.BERT),
          new Call("GET", "/status/server", null, Dialect.BERT),
          new Call("POST", "/v1/embeddings", "{\"input\": \"a\"}", Dialect.OPENAI),
          new Call("GET", "/v1/models", null, Dialect.OPENAI),
          new Call("POST", "/embeddings", "{\"input\": \"a\"}", Dialect.OPENAI),
          new Call("POST", "/embed", "{\"inputs\": \"a\"}", Dialect.TEI),
          new Call("POST", "/", "{\"inputs\": \"a\"}", Dialect.TEI),
          new Call("POST", "/embed_all", "{\"inputs\": \"a\"}", Dialect.TEI),
          new Call("POST", "/tokenize", "{\"inputs\": \"a\"}", Dialect.TEI),
          new Call("POST", "/decode", "{\"ids\": [5]}", Dialect.TEI),
          new Call("GET", "/info", null, Dialect.TEI));

  @BeforeAll
  static void start() throws Exception {
    Path keys = tmp.resolve("keys");
    Files.writeString(keys, "# the team's keys\nbeta\n\n  gamma  \n");
    server =
        TestNodes.serving(
            Map.of(
                "bert-serving.http.api-key",
                "alpha",
                "bert-serving.http.api-key-file",
                keys.toString(),
                "bert-serving.http.cors",
                APP + ", https://admin.example",
                "bert-serving.chaos.enabled",
                true));
    TestNodes.awaitWorkers(server, 1);
    base = "http://127.0.0.1:" + server.httpPort();
    management = "http://127.0.0.1:" + server.ports().management();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static HttpResponse<String> call(String url, Call c, String... headers) throws Exception {
    List<String> all = new ArrayList<>(List.of(headers));
    if (c.body() != null) {
      all.addAll(List.of("Content-Type", "application/json"));
    }
    return Wire.send(c.method(), url + c.path(), c.body(), all.toArray(new String[0]));
  }

  @Test
  void everyRouteButProbesAndMetricsNeedsAKeyOnBothPorts() throws Exception {
    List<Call> calls = new ArrayList<>(PROTECTED);
    for (Call c : calls) {
      HttpResponse<String> none = call(base, c);
      ApiErrorsTest.assertError(
          c.dialect(),
          none,
          401,
          c.dialect() == Dialect.OPENAI
              ? "invalid_api_key"
              : c.dialect() == Dialect.TEI ? "unauthorized" : "unauthorized");
      assertTrue(
          none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), c.path());
      HttpResponse<String> wrong = call(base, c, "Authorization", "Bearer alpha2");
      ApiErrorsTest.assertError(
          c.dialect(),
          wrong,
          401,
          c.dialect() == Dialect.TEI || c.dialect() == Dialect.BERT
              ? "invalid_api_key"
              : "invalid_api_key");
      assertTrue(
          wrong.headers().firstValue("WWW-Authenticate").orElse("").contains("invalid_token"));
      for (String key : List.of("alpha", "beta", "gamma")) {
        HttpResponse<String> right = call(base, c, "Authorization", "Bearer " + key);
        assertNotEquals(401, right.statusCode(), c.path() + " with " + key + ": " + right.body());
        assertTrue(
            right.statusCode() == 200 || c.path().equals("/embed_all"),
            c.path() + ": " + right.body());
      }
    }
    assertEquals(
        200,
        call(base, PROTECTED.get(0), "Authorization", "bearer   alpha").statusCode(),
        "the scheme is case-insensitive");
    for (String open : List.of("/health", "/ready", "/metrics")) {
      assertEquals(200, Wire.get(base + open).statusCode(), open);
      assertEquals(200, Wire.send("HEAD", base + open, null).statusCode(), open);
      assertEquals(200, Wire.get(management + open).statusCode(), open);
    }
    assertTrue(
        Wire.get(base + "/", "Accept", "text/html").body().contains("<html"), "the status page");
    assertEquals(200, Wire.get(base + "/ui/status.js").statusCode(), "its static files");
    Call chaos = new Call("POST", "/chaos/reset", null, Dialect.BERT);
    ApiErrorsTest.assertError(Dialect.BERT, call(management, chaos), 401, "unauthorized");
    ApiErrorsTest.assertError(
        Dialect.BERT,
        call(management, chaos, "Authorization", "Bearer nope"),
        401,
        "invalid_api_key");
    assertEquals(200, call(management, chaos, "Authorization", "Bearer beta").statusCode());
    String metrics = Wire.get(base + "/metrics").body();
    assertTrue(
        Wire.metric(metrics, "bert_replies_total{status=\"401\"}") >= 2 * PROTECTED.size(),
        metrics);
  }

  @Test
  void corsAnswersTheOriginsNamedAndNoOther() throws Exception {
    HttpResponse<String> preflight =
        Wire.send(
            "OPTIONS",
            base + "/v1/embeddings",
            null,
            "Origin",
            APP,
            "Access-Control-Request-Method",
            "POST",
            "Access-Control-Request-Headers",
            // what the OpenAI SDK for JavaScript asks for in a browser
            "authorization, content-type, x-stainless-lang, x-stainless-retry-count");
    assertEquals(204, preflight.statusCode(), "no key on a preflight: browsers send none");
    assertEquals(APP, preflight.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
    assertEquals(
        "Authorization, Content-Type, Accept, Accept-Encoding, x-stainless-lang,"
            + " x-stainless-retry-count",
        preflight.headers().firstValue("Access-Control-Allow-Headers").orElse(""));
    assertTrue(
        String.join(", ", preflight.headers().allValues("Vary"))
            .contains("Access-Control-Request-Headers"),
        preflight.headers().toString());
    assertTrue(
        preflight.headers().firstValue("Access-Control-Allow-Methods").orElse("").contains("POST"));
    HttpResponse<String> allowed =
        Wire.post(
            base + "/v1/embeddings",
            "{\"input\": \"a\"}",
            "Origin",
            APP,
            "Authorization",
            "Bearer alpha");
    assertEquals(200, allowed.statusCode(), allowed.body());
    assertEquals(APP, allowed.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
    assertEquals("Origin", allowed.headers().firstValue("Vary").orElse(null));
    HttpResponse<String> unauthorized =
        Wire.post(base + "/embed", "{\"inputs\": \"a\"}", "Origin", "https://admin.example");
    assertEquals(401, unauthorized.statusCode());
    assertEquals(
        "https://admin.example",
        unauthorized.headers().firstValue("Access-Control-Allow-Origin").orElse(null),
        "the page may read why it was refused");

    String foreign = "https://evil.example";
    HttpResponse<String> refused =
        Wire.send(
            "OPTIONS",
            base + "/v1/embeddings",
            null,
            "Origin",
            foreign,
            "Access-Control-Request-Method",
            "POST",
            "Access-Control-Request-Headers",
            "authorization");
    assertEquals(403, refused.statusCode(), refused.body());
    assertTrue(refused.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
    HttpResponse<String> unreadable =
        Wire.post(
            base + "/v1/embeddings",
            "{\"input\": \"a\"}",
            "Origin",
            foreign,
            "Authorization",
            "Bearer alpha");
    assertTrue(
        unreadable.headers().firstValue("Access-Control-Allow-Origin").isEmpty(),
        "a foreign page's browser may not read the answer");
    // a form post (no preflight in a browser) is not JSON: refused before any work
    HttpResponse<String> form =
        Wire.send(
            "POST",
            base + "/encode",
            "texts=a",
            "Origin",
            foreign,
            "Content-Type",
            "application/x-www-form-urlencoded",
            "Authorization",
            "Bearer alpha");
    assertEquals(415, form.statusCode());
  }

  @Test
  void anyOriginOnlyWhenWrittenOut() throws Exception {
    try (BertServer open =
        TestNodes.start(
            TestNodes.node(List.of("frontend"), 0, true, Map.of("bert-serving.http.cors", "*")))) {
      HttpResponse<String> r =
          Wire.get(
              "http://127.0.0.1:" + open.httpPort() + "/health", "Origin", "https://any.example");
      assertEquals("*", r.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
    }
  }

  @Test
  void keysComeFromFlagsAFileAndTheEnvironment() throws Exception {
    HttpSettings flags =
        HttpSettings.create(
            StartArgs.parse("-api_key", "a, b", "-api_key_file", tmp.resolve("keys").toString())
                .config());
    assertEquals(4, flags.apiKeys().size(), "a, b, and beta and gamma from the file");
    // BERT_SERVING_API_KEY, read by reference.conf: in a JVM of its own, with the variable set
    ProcessBuilder child =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp",
            System.getProperty("java.class.path"),
            PrintKeys.class.getName());
    child.environment().put("BERT_SERVING_API_KEY", "from-env,second");
    TestNodes.Child printed = TestNodes.run(child, 60);
    assertEquals(0, printed.exit(), printed.output());
    assertEquals("2", printed.output().lines().reduce((a, b) -> b).orElse("").trim());
  }

  /** Prints how many API keys a node with no flags has (its environment's). */
  public static final class PrintKeys {
    public static void main(String[] args) {
      System.out.println(
          HttpSettings.create(NodeConfig.load(com.typesafe.config.ConfigFactory.empty()))
              .apiKeys()
              .size());
    }
  }
}

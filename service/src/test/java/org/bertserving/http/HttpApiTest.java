package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bertserving.engine.BertEncoder;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The HTTP API of one node (both roles, tiny model) on a loopback port, with a real client. */
class HttpApiTest {
  static BertServer server;
  static String base;
  static BertEncoder direct;

  @BeforeAll
  static void start() throws Exception {
    server = TestNodes.serving(Map.of("bert-serving.frontend.max-request-rows", 2000));
    base = "http://127.0.0.1:" + server.httpPort();
    Wire.awaitReady(base);
    direct = TestNodes.tinyEngine();
  }

  @AfterAll
  static void stop() {
    server.close();
    direct.close();
  }

  @Test
  void encodeAnswersLikeBertAsServiceInInputOrder() throws Exception {
    List<String> texts = List.of("hello world", "how are you?", "new york ||| big city", "a");
    HttpResponse<String> r =
        Wire.post(
            base + "/encode",
            Wire.JSON.writeValueAsString(Map.of("id", 123, "texts", texts, "show_tokens", true)));
    assertEquals(200, r.statusCode(), r.body());
    JsonNode body = Wire.json(r);
    assertEquals(123, body.get("id").asInt());
    assertEquals(200, body.get("status").asInt());
    float[][] expected = direct.encode(texts);
    for (int i = 0; i < texts.size(); i++) {
      JsonNode row = body.get("result").get(i);
      assertEquals(expected[i].length, row.size());
      for (int d = 0; d < row.size(); d++) {
        assertEquals(expected[i][d], row.get(d).floatValue(), 1e-6, "row " + i);
      }
    }
    assertEquals("[CLS]", body.get("tokens").get(2).get(0).asText());
    assertEquals("[SEP]", body.get("tokens").get(2).get(3).asText(), "pair separated");
  }

  @Test
  void tokenizedInputAndEmbeddingsEndpoint() throws Exception {
    HttpResponse<String> r =
        Wire.post(
            base + "/encode", "{\"texts\": [[\"hello\", \"world\"]], \"is_tokenized\": true}");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(
        direct.encode(List.of("hello world"))[0][0],
        Wire.json(r).get("result").get(0).get(0).floatValue(),
        1e-6);
    // bert-as-service's HTTP server read the flag with Python's bool(): clients send 1 and 0
    HttpResponse<String> one =
        Wire.post(base + "/encode", "{\"texts\": [[\"hello\", \"world\"]], \"is_tokenized\": 1}");
    assertEquals(200, one.statusCode(), one.body());
    assertEquals(Wire.json(r).get("result"), Wire.json(one).get("result"));
    HttpResponse<String> zero =
        Wire.post(base + "/encode", "{\"texts\": [\"hello world\"], \"is_tokenized\": 0}");
    assertEquals(200, zero.statusCode(), zero.body());
    assertEquals(
        Wire.json(r).get("result").get(0).get(0).floatValue(),
        Wire.json(zero).get("result").get(0).get(0).floatValue(),
        1e-6);

    JsonNode floats =
        Wire.json(
            Wire.post(
                base + "/v1/embeddings",
                "{\"input\": [\"hello world\", \"a\"], \"model\": \"model\"}"));
    assertEquals("list", floats.get("object").asText());
    assertEquals(1, floats.get("data").get(1).get("index").asInt());
    assertEquals("embedding", floats.get("data").get(0).get("object").asText());
    assertEquals(
        4 + 3, floats.get("usage").get("total_tokens").asInt(), "tokens incl. [CLS]/[SEP]");
    JsonNode b64 =
        Wire.json(
            Wire.post(
                base + "/v1/embeddings",
                "{\"input\": \"hello world\", \"encoding_format\": \"base64\"}"));
    byte[] bytes = Base64.getDecoder().decode(b64.get("data").get(0).get("embedding").asText());
    float first = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getFloat(0);
    assertEquals(floats.get("data").get(0).get("embedding").get(0).floatValue(), first, 1e-5);
  }

  /**
   * OpenAI's embeddings have unit length, cut to {@code dimensions} or not, whatever the server's
   * {@code -normalize} (this node's tiny model keeps bert-as-service's: not normalized); a text of
   * spaces is embedded as {@code [CLS] [SEP]} on OpenAI's and TEI's routes, as they do, and refused
   * on bert-as-service's, as it does.
   */
  @Test
  void openAiVectorsHaveUnitLengthAndSpacesAloneAreAText() throws Exception {
    float[] raw = direct.encode(List.of("hello world"))[0];
    double rawLength = 0;
    for (float v : raw) {
      rawLength += (double) v * v;
    }
    assertTrue(Math.abs(Math.sqrt(rawLength) - 1) > 0.01, "the model's own vectors: not unit");
    for (String extra : List.of("", ", \"dimensions\": 8")) {
      JsonNode data =
          Wire.json(
                  Wire.post(base + "/v1/embeddings", "{\"input\": [\"hello world\"]" + extra + "}"))
              .get("data")
              .get(0)
              .get("embedding");
      double length = 0;
      for (JsonNode v : data) {
        length += v.doubleValue() * v.doubleValue();
      }
      assertEquals(1, Math.sqrt(length), 1e-5, "unit length" + extra);
      assertEquals(
          raw[0] / Math.sqrt(extra.isEmpty() ? rawLength : squares(raw, 8)),
          data.get(0).doubleValue(),
          1e-5);
    }
    float[] spaces =
        direct.encode(List.of((Object) java.util.Map.of("text", " \t ")), false).matrix()[0];
    HttpResponse<String> embed =
        Wire.post(base + "/embed", "{\"inputs\": [\"a\", \" \\t \"], \"normalize\": false}");
    assertEquals(200, embed.statusCode(), embed.body());
    assertEquals(spaces[0], Wire.json(embed).get(1).get(0).floatValue(), 1e-5);
    HttpResponse<String> openAi = Wire.post(base + "/v1/embeddings", "{\"input\": [\" \"]}");
    assertEquals(200, openAi.statusCode(), openAi.body());
    HttpResponse<String> encode = Wire.post(base + "/encode", "{\"id\": 7, \"texts\": [\" \"]}");
    assertEquals(400, encode.statusCode(), encode.body());
    assertEquals(7, Wire.json(encode).get("id").asInt(), encode.body());
    HttpResponse<String> notAList =
        Wire.post(base + "/encode", "{\"id\": 7, \"texts\": \"hello\"}");
    assertEquals(400, notAList.statusCode(), notAList.body());
    assertEquals(
        7, Wire.json(notAList).get("id").asInt(), "every error echoes the id: " + notAList.body());
  }

  private static double squares(float[] v, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += (double) v[i] * v[i];
    }
    return sum;
  }

  @Test
  void everyBadInputGetsItsStatusAndAMessageAndTheServerStaysReady() throws Exception {
    Map<String, String> bad =
        pairs(
            "not json", "invalid_json",
            "[1, 2]", "body must be a JSON object",
            "{\"id\": 1}", "'texts' must be a list",
            "{\"texts\": \"hello\"}", "'texts' must be a list",
            "{\"texts\": []}", "no texts given",
            "{\"texts\": [\"ok\", \"\"]}", "input 1: text is empty",
            "{\"texts\": [\"ok\", 5]}", "input 1: expected a string but got a number",
            "{\"texts\": [\"ok\", null]}", "input 1: text is null",
            "{\"texts\": [\"ok\", [\"a\"]]}", "input 1: expected a string but got a list",
            "{\"texts\": [[\"a\"], \"b\"], \"is_tokenized\": true}",
                "input 1: expected a list of tokens",
            "{\"texts\": [[\"|||\", \"b\"]], \"is_tokenized\": true}",
                "input 0: sentence pair has an empty side",
            "{\"texts\": [\"a\"], \"show_tokens\": \"yes\"}", "'show_tokens' must be true or false",
            "{\"texts\": [\"a\"], \"normalize\": 1}", "'normalize' must be true or false",
            // 0 and 1 as bert-as-service's bool() read them; nothing else
            "{\"texts\": [[\"a\"]], \"is_tokenized\": 2}", "'is_tokenized' must be true or false",
            "{\"texts\": [[\"a\"]], \"is_tokenized\": 18446744073709551617}",
                "'is_tokenized' must be true or false",
            "{\"texts\": [[\"a\"]], \"is_tokenized\": 1.0}", "'is_tokenized' must be true or false",
            "{\"texts\": [[\"a\"]], \"is_tokenized\": \"1\"}",
                "'is_tokenized' must be true or false",
            "{\"texts\": [\"a\"], \"dimensions\": \"8\"}", "'dimensions' must be an integer",
            "{\"texts\": [\"a\"], \"dimensions\": 0}", "dimensions 0 is out of range",
            "{\"texts\": [\"a\"], \"dimensions\": 33}",
                "dimensions 33 is out of range: expected 1 to 32",
            "{\"texts\": [\"a\"], \"prompt\": 5}", "'prompt' must be a string");
    for (Map.Entry<String, String> e : bad.entrySet()) {
      HttpResponse<String> r = Wire.post(base + "/encode", e.getKey());
      assertEquals(400, r.statusCode(), e.getKey() + " -> " + r.body());
      JsonNode body = Wire.json(r);
      assertEquals(400, body.get("status").asInt());
      assertTrue(
          body.get("description").asText().contains(e.getValue())
              || body.get("type").asText().equals(e.getValue()),
          e.getKey() + " -> " + r.body());
    }
    assertEquals(400, Wire.post(base + "/v1/embeddings", "{\"input\": 3}").statusCode());
    assertEquals(
        400,
        Wire.post(base + "/v1/embeddings", "{\"input\": \"a\", \"encoding_format\": \"hex\"}")
            .statusCode());
    HttpResponse<String> tooMany = Wire.post(base + "/encode", Wire.encodeBody(2001, "a"));
    assertEquals(413, tooMany.statusCode(), tooMany.body());
    HttpResponse<String> tooLarge =
        Wire.post(base + "/encode", "{\"texts\": [\"" + "a ".repeat(9_000_000) + "\"]}");
    assertEquals(413, tooLarge.statusCode());
    assertEquals("too_large", Wire.json(tooLarge).get("type").asText());
    assertEquals(404, Wire.get(base + "/nowhere").statusCode());
    assertEquals(405, Wire.get(base + "/encode").statusCode());
    assertEquals(200, Wire.get(base + "/ready").statusCode(), "still ready");
    assertEquals(200, Wire.post(base + "/encode", "{\"texts\": [\"still works\"]}").statusCode());
  }

  @Test
  void statusHealthMetricsAndCors() throws Exception {
    java.time.Instant beforeFirstStatusCall = java.time.Instant.now();
    Wire.post(base + "/encode", "{\"texts\": [\"count me\"]}");
    JsonNode status = Wire.json(Wire.get(base + "/status/server"));
    // the port as bound: the test's server asked for any free one (0)
    assertEquals(server.httpPort(), status.get("http_port").asInt());
    // the start of the node, not of the first status call, and the same on every call
    java.time.Instant started = java.time.Instant.parse(status.get("server_start_time").asText());
    assertTrue(started.isBefore(beforeFirstStatusCall), started + " before the first call");
    assertEquals(
        status.get("server_start_time").asText(),
        Wire.json(Wire.get(base + "/status/server")).get("server_start_time").asText());
    // the served model by name: the tiny model's folder is called "model"
    assertEquals("model", status.get("model").asText());
    // the device each worker really runs on, with TensorFlow's version, here and in /metrics
    TestNodes.await(
        () ->
            Wire.json(Wire.get(base + "/status/server"))
                .get("workers")
                .get(0)
                .hasNonNull("tensorflow"),
        30,
        "the worker described itself");
    JsonNode worker = Wire.json(Wire.get(base + "/status/server")).get("workers").get(0);
    assertEquals(
        org.bertserving.engine.GpuPlatform.cpu(), worker.get("device").asText(), worker.toString());
    String tensorflow = org.bertserving.engine.tf.TfBertBackend.tensorflowVersion();
    assertTrue(tensorflow.startsWith("2."), tensorflow);
    assertEquals(tensorflow, worker.get("tensorflow").asText(), worker.toString());
    assertEquals(16, status.get("max_seq_len").asInt());
    assertEquals("REDUCE_MEAN", status.get("pooling_strategy").asText());
    assertEquals(1, status.get("num_workers").asInt());
    assertTrue(status.get("statistic").get("num_data_request").asInt() >= 1);
    assertEquals(1, status.get("cluster_members").size());
    assertEquals(200, Wire.get(base + "/health").statusCode());
    assertEquals(200, Wire.get(base + "/ping").statusCode(), "TEI's /ping");
    // OpenAI's one model, and an unknown one in its shape; TEI's sparse route on a dense model
    JsonNode model = Wire.json(Wire.get(base + "/v1/models/model"));
    assertEquals("model", model.get("id").asText(), model.toString());
    assertEquals("model", model.get("object").asText(), model.toString());
    HttpResponse<String> unknown = Wire.get(base + "/v1/models/nope");
    assertEquals(404, unknown.statusCode(), unknown.body());
    assertEquals("model_not_found", Wire.json(unknown).get("error").get("code").asText());
    HttpResponse<String> sparse = Wire.post(base + "/embed_sparse", "{\"inputs\": \"a\"}");
    assertEquals(424, sparse.statusCode(), sparse.body());
    assertEquals("Backend", Wire.json(sparse).get("error_type").asText(), sparse.body());
    String metrics = Wire.get(base + "/metrics").body();
    for (String name :
        List.of(
            "bert_requests_total",
            "bert_rows_total",
            "bert_request_duration_seconds_bucket",
            "bert_job_rows_bucket",
            "bert_queued_rows",
            "bert_worker_tf_runs_total",
            "bert_worker_busy_seconds_total",
            "bert_worker_info{")) {
      assertTrue(metrics.contains(name), name + " in\n" + metrics);
    }
    assertTrue(
        metrics
            .lines()
            .anyMatch(
                l ->
                    l.startsWith("bert_worker_info{")
                        && l.contains(org.bertserving.engine.tf.TfBertBackend.tensorflowVersion())),
        metrics);
    HttpResponse<String> r = Wire.post(base + "/encode", "{\"texts\": [\"x\"]}");
    assertTrue(
        r.headers().firstValue("Access-Control-Allow-Origin").isEmpty(), "no CORS by default");
  }

  @Test
  void aRequestMayAskForItsOwnPromptNormalizationAndDimensions() throws Exception {
    List<String> texts = List.of("hello world", "how are you?");
    JsonNode asked =
        Wire.json(
            Wire.post(
                base + "/encode",
                Wire.JSON.writeValueAsString(
                    Map.of("texts", texts, "prompt", "the ", "normalize", true, "dimensions", 8))));
    float[][] expected =
        direct
            .encode(texts, false, new org.bertserving.engine.CallOptions("the ", true, 8))
            .matrix();
    for (int i = 0; i < texts.size(); i++) {
      JsonNode row = asked.get("result").get(i);
      assertEquals(8, row.size());
      double norm = 0;
      for (int d = 0; d < 8; d++) {
        assertEquals(expected[i][d], row.get(d).floatValue(), 1e-6);
        norm += row.get(d).floatValue() * row.get(d).floatValue();
      }
      assertEquals(1.0, norm, 1e-5, "renormalized after truncation");
    }
    // OpenAI's dimensions, and the served model's name
    JsonNode openAi =
        Wire.json(
            Wire.post(base + "/v1/embeddings", "{\"input\": \"hello world\", \"dimensions\": 4}"));
    assertEquals(4, openAi.get("data").get(0).get("embedding").size());
    assertEquals("model", openAi.get("model").asText(), "the tiny model's folder name");
    JsonNode models = Wire.json(Wire.get(base + "/v1/models"));
    assertEquals("model", models.get("data").get(0).get("id").asText());
    HttpResponse<String> wider =
        Wire.post(base + "/v1/embeddings", "{\"input\": \"hello world\", \"dimensions\": 33}");
    assertEquals(400, wider.statusCode(), wider.body());
    assertTrue(wider.body().contains("expected 1 to 32"), wider.body());
    assertEquals("model", models.get("data").get(0).get("object").asText());
  }

  @Test
  void gzipWhenAskedAndOnlyThen() throws Exception {
    HttpResponse<byte[]> r = encodeAccepting("gzip");
    assertEquals("gzip", r.headers().firstValue("Content-Encoding").orElse(null));
    assertEquals("Accept-Encoding", r.headers().firstValue("Vary").orElse(null));
    // compressed whole, not streamed in chunks
    assertEquals(
        String.valueOf(r.body().length), r.headers().firstValue("Content-Length").orElse(null));
    String body =
        new String(
            new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(r.body()))
                .readAllBytes());
    JsonNode vectors = Wire.JSON.readTree(body).get("result");
    assertEquals(TEXTS, vectors.size());
    assertEquals(
        "gzip",
        encodeAccepting("deflate, *;q=0.5").headers().firstValue("Content-Encoding").orElse(null));
    // the list split over two header lines, as HTTP allows
    HttpResponse<byte[]> split =
        Wire.CLIENT.send(
            HttpRequest.newBuilder(URI.create(base + "/encode"))
                .header("Content-Type", "application/json")
                .header("Accept-Encoding", "br")
                .header("Accept-Encoding", "gzip")
                .POST(HttpRequest.BodyPublishers.ofString("{\"texts\": " + texts() + "}"))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertEquals("gzip", split.headers().firstValue("Content-Encoding").orElse(null));
    for (String refused :
        new String[] {null, "identity", "gzip;q=0", "gzip;q=0, *", "*;q=0", "br"}) {
      HttpResponse<byte[]> plain = encodeAccepting(refused);
      assertTrue(plain.headers().firstValue("Content-Encoding").isEmpty(), refused + ": plain");
      assertEquals("Accept-Encoding", plain.headers().firstValue("Vary").orElse(null), refused);
      assertEquals(vectors, Wire.JSON.readTree(plain.body()).get("result"), refused);
    }
    // a short answer (an error) is not worth it
    HttpResponse<byte[]> error =
        Wire.CLIENT.send(
            HttpRequest.newBuilder(URI.create(base + "/encode"))
                .header("Content-Type", "application/json")
                .header("Accept-Encoding", "gzip")
                .POST(HttpRequest.BodyPublishers.ofString("{\"texts\": []}"))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(400, error.statusCode());
    assertTrue(error.headers().firstValue("Content-Encoding").isEmpty());
    assertTrue(error.headers().firstValue("Vary").isEmpty(), "never compressed: no Vary");
    assertEquals(400, Wire.JSON.readTree(error.body()).get("status").asInt());
    // a file of the status page, which akka-http streams from the jar
    HttpResponse<byte[]> script =
        Wire.CLIENT.send(
            HttpRequest.newBuilder(URI.create(base + "/ui/status.js"))
                .header("Accept-Encoding", "gzip")
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, script.statusCode());
    assertEquals("gzip", script.headers().firstValue("Content-Encoding").orElse(null));
    byte[] file;
    try (java.io.InputStream in =
        getClass().getResourceAsStream("/org/bertserving/http/ui/status.js")) {
      file = in.readAllBytes();
    }
    assertTrue(file.length >= Compression.MIN_BYTES, "a file worth gzip");
    assertEquals(
        new String(file),
        new String(
            new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(script.body()))
                .readAllBytes()));
  }

  // enough of the tiny model's vectors for an answer gzip is worth
  private static final int TEXTS = 24;

  private static String texts() throws IOException {
    return Wire.JSON.writeValueAsString(java.util.Collections.nCopies(TEXTS, "hello world"));
  }

  /** /encode of {@link #TEXTS} texts with this Accept-Encoding ({@code null}: none). */
  private static HttpResponse<byte[]> encodeAccepting(String acceptEncoding) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + "/encode"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"texts\": " + texts() + "}"));
    if (acceptEncoding != null) {
      request.header("Accept-Encoding", acceptEncoding);
    }
    HttpResponse<byte[]> r =
        Wire.CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, r.statusCode(), acceptEncoding);
    return r;
  }

  @Test
  void concurrentSmallRequestsShareTensorFlowRuns() throws Exception {
    long tfRunsBefore = totalTfRuns();
    long requestsBefore = server.metrics().requests.sum();
    // 32 clients, each sending one sentence at a time, as many services would
    java.util.concurrent.ExecutorService clients =
        java.util.concurrent.Executors.newFixedThreadPool(32);
    List<java.util.concurrent.Future<Integer>> calls = new ArrayList<>();
    for (int i = 0; i < 320; i++) {
      String body = "{\"texts\": [\"the dog sat on the mat " + i + "\"]}";
      calls.add(clients.submit(() -> Wire.post(base + "/encode", body).statusCode()));
    }
    for (java.util.concurrent.Future<Integer> call : calls) {
      assertEquals(200, call.get(60, TimeUnit.SECONDS));
    }
    clients.shutdown();
    long requests = server.metrics().requests.sum() - requestsBefore;
    long tfRuns = totalTfRuns() - tfRunsBefore;
    assertTrue(
        tfRuns < requests, tfRuns + " TensorFlow runs for " + requests + " requests: no merging");
  }

  /**
   * {@code Accept: application/x-npy}: the same vectors as the JSON answer, bit for bit, as a
   * {@code .npy} file NumPy reads; tokens asked for, or an error, keep the answer Wire.JSON.
   */
  @Test
  void encodeAnswersNpyWhenAskedFor() throws Exception {
    List<String> texts = List.of("hello world", "how are you?", "new york ||| big city");
    String body = Wire.JSON.writeValueAsString(Map.of("texts", texts));
    HttpResponse<byte[]> npy =
        Wire.postForBytes(base + "/encode", body, "Accept", "application/x-npy");
    assertEquals(200, npy.statusCode());
    assertEquals("application/x-npy", npy.headers().firstValue("Content-Type").orElse(""));
    Wire.NpyFile file = Wire.NpyFile.read(npy.body());
    float[][] expected = direct.encode(texts);
    assertEquals(List.of(3, expected[0].length), toList(file.shape()));
    JsonNode json = Wire.json(Wire.post(base + "/encode", body)).get("result");
    for (int i = 0; i < texts.size(); i++) {
      for (int d = 0; d < expected[i].length; d++) {
        float got = file.data()[i * expected[i].length + d];
        assertEquals(json.get(i).get(d).floatValue(), got, "row " + i + " as in the JSON answer");
        assertEquals(expected[i][d], got, 1e-6, "row " + i);
      }
    }
    NumpyCheck.load(npy.body(), "(3, " + expected[0].length + ")");

    HttpResponse<byte[]> tokens =
        Wire.postForBytes(
            base + "/encode",
            "{\"texts\": [\"hello\"], \"show_tokens\": true}",
            "Accept",
            "application/x-npy, application/json;q=0.9");
    assertEquals(200, tokens.statusCode());
    assertTrue(
        Wire.JSON.readTree(tokens.body()).get("tokens").isArray(),
        "tokens asked: the answer is JSON");
    HttpResponse<byte[]> jsonPreferred =
        Wire.postForBytes(
            base + "/encode", body, "Accept", "application/json, application/x-npy;q=0.5");
    assertTrue(
        Wire.JSON.readTree(jsonPreferred.body()).get("result").isArray(), "JSON ranked first");
    HttpResponse<byte[]> bad =
        Wire.postForBytes(base + "/encode", "{\"texts\": []}", "Accept", "application/x-npy");
    assertEquals(400, bad.statusCode());
    assertEquals("invalid_input", Wire.JSON.readTree(bad.body()).get("type").asText());
  }

  static List<Integer> toList(int[] values) {
    return java.util.Arrays.stream(values).boxed().toList();
  }

  /**
   * Requests start no thread each: the answers are rendered on the server's own dispatcher, not on
   * the JDK's default pool (a new thread per callback where the common pool has parallelism 1, as
   * on two cores; the common pool's workers elsewhere).
   */
  @Test
  void requestsStartNoThreadEach() throws Exception {
    java.lang.management.ThreadMXBean threads =
        java.lang.management.ManagementFactory.getThreadMXBean();
    java.util.concurrent.ExecutorService clients =
        java.util.concurrent.Executors.newFixedThreadPool(4);
    String[][] calls = {
      {"/encode", "{\"texts\": [\"a dog %d\"]}"},
      {"/v1/embeddings", "{\"input\": \"a cat %d\"}"},
      {"/embed", "{\"inputs\": \"a cow %d\"}"},
      {"/tokenize", "{\"inputs\": \"a hen %d\"}"}
    };
    Runnable load =
        () -> {
          List<java.util.concurrent.Future<Integer>> sent = new ArrayList<>();
          for (int i = 0; i < 400; i++) {
            String[] call = calls[i % calls.length];
            String body = String.format(call[1], i);
            sent.add(clients.submit(() -> Wire.post(base + call[0], body).statusCode()));
          }
          for (java.util.concurrent.Future<Integer> answer : sent) {
            try {
              assertEquals(200, answer.get(60, TimeUnit.SECONDS));
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          }
        };
    load.run(); // the client's and the server's pools at the size this load needs
    java.util.Set<Long> before = new java.util.HashSet<>();
    for (long id : threads.getAllThreadIds()) {
      before.add(id);
    }
    long started = threads.getTotalStartedThreadCount();
    load.run();
    long startedUnderLoad = threads.getTotalStartedThreadCount() - started;
    List<String> commonPool = new ArrayList<>();
    for (java.lang.management.ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info != null
          && !before.contains(info.getThreadId())
          && info.getThreadName().startsWith("ForkJoinPool.commonPool")) {
        commonPool.add(info.getThreadName());
      }
    }
    clients.shutdown();
    assertTrue(
        startedUnderLoad < 40,
        startedUnderLoad + " threads started in this JVM during 400 requests");
    assertEquals(List.of(), commonPool, "threads of the JDK's common pool appeared under load");
  }

  static Map<String, String> pairs(String... keysAndValues) {
    Map<String, String> map = new java.util.LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  static long totalTfRuns() {
    return server.metrics().perWorker().values().stream().mapToLong(v -> v[1]).sum();
  }
}

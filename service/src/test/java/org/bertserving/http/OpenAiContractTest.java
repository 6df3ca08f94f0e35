package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.CallOptions;
import org.bertserving.engine.Vectors;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /v1/embeddings} as today's OpenAI clients call it, byte for byte: the Python and Node SDKs
 * (base64 by default, headers of their own), LangChain's Python OpenAIEmbeddings (token ids), and
 * LangChain4j's OpenAiEmbeddingModel end to end; against a node that wants an API key, as a
 * deployed one would.
 */
class OpenAiContractTest {
  static final String KEY = "sk-test-0123456789";
  static final List<String> TEXTS = List.of("hello world", "how are you?");
  static BertServer server;
  static String base;
  static BertEncoder direct;

  @BeforeAll
  static void start() throws Exception {
    server = TestNodes.serving(Map.of("bert-serving.http.api-key", KEY));
    base = "http://127.0.0.1:" + server.httpPort();
    TestNodes.awaitWorkers(server, 1);
    direct = TestNodes.tinyEngine();
  }

  @AfterAll
  static void stop() {
    server.close();
    direct.close();
  }

  static float[] base64(String encoded) {
    ByteBuffer bytes =
        ByteBuffer.wrap(Base64.getDecoder().decode(encoded)).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[bytes.remaining() / 4];
    bytes.asFloatBuffer().get(out);
    return out;
  }

  @Test
  void thePythonSdksRequestBase64ByDefault() throws Exception {
    // openai-python 1.x: client.embeddings.create(input=[...], model=...) as it goes on the wire
    HttpResponse<String> r =
        Wire.post(
            base + "/v1/embeddings",
            "{\"input\": [\"hello world\", \"how are you?\"], \"model\": \"model\", "
                + "\"encoding_format\": \"base64\"}",
            "Authorization",
            "Bearer " + KEY,
            "Accept",
            "application/json",
            "User-Agent",
            "OpenAI/Python 1.99.9",
            "X-Stainless-Lang",
            "python",
            "X-Stainless-Package-Version",
            "1.99.9",
            "X-Stainless-Retry-Count",
            "0");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode body = Wire.json(r);
    float[][] expected = direct.encode(TEXTS);
    for (int i = 0; i < TEXTS.size(); i++) {
      assertEquals(i, body.get("data").get(i).get("index").asInt());
      assertArrayEquals(
          Vectors.unit(expected[i]),
          base64(body.get("data").get(i).get("embedding").asText()),
          1e-6f);
    }
    assertEquals(
        server.settings().engine().modelName(),
        body.get("model").asText(),
        "the model named: the one that answered");
    assertTrue(body.get("usage").get("prompt_tokens").asInt() > 0);
  }

  @Test
  void theNodeSdkSendsOneStringAndBase64() throws Exception {
    HttpResponse<String> r =
        Wire.post(
            base + "/v1/embeddings",
            "{\"model\":\"model\",\"input\":\"hello world\",\"encoding_format\":\"base64\"}",
            "Authorization",
            "Bearer " + KEY,
            "User-Agent",
            "OpenAI/JS 5.12.2",
            "X-Stainless-Lang",
            "js");
    assertEquals(200, r.statusCode(), r.body());
    assertArrayEquals(
        Vectors.unit(direct.encode(List.of("hello world"))[0]),
        base64(Wire.json(r).get("data").get(0).get("embedding").asText()),
        1e-6f);
    // a base URL without /v1, as text-embeddings-inference also answers it
    HttpResponse<String> root =
        Wire.post(
            base + "/embeddings", "{\"input\": \"hello world\"}", "Authorization", "Bearer " + KEY);
    assertEquals(200, root.statusCode(), root.body());
    assertEquals(
        Wire.json(Wire.post(base + "/embeddings", "{}", "Authorization", "Bearer " + KEY))
            .get("error")
            .get("param")
            .asText(),
        "input",
        "OpenAI's error shape there too");
  }

  @Test
  void dimensionsUserAndUnknownFields() throws Exception {
    HttpResponse<String> r =
        Wire.post(
            base + "/v1/embeddings",
            "{\"input\": [\"hello world\"], \"model\": \"model\", \"dimensions\": 8, \"encoding_format\": \"float\", "
                + "\"user\": \"user-42\", \"extra_body_field\": {\"a\": [1, 2]}}",
            "Authorization",
            "Bearer " + KEY);
    assertEquals(200, r.statusCode(), r.body());
    JsonNode embedding = Wire.json(r).get("data").get(0).get("embedding");
    assertEquals(8, embedding.size());
    float[] expected =
        direct.encode(List.of("hello world"), false, new CallOptions(null, true, 8)).matrix()[0];
    for (int d = 0; d < 8; d++) {
      assertEquals(expected[d], embedding.get(d).floatValue(), 1e-6f);
    }
  }

  @Test
  void aTextHoldingThePairSeparatorIsEmbeddedAsWrittenOnOpenAisAndTeisRoutes() throws Exception {
    float[] literal = direct.encode(List.of(Map.of("text", "hello ||| world")), false).matrix()[0];
    float[] pair = direct.encode(List.of("hello ||| world"))[0];
    HttpResponse<String> openAi =
        Wire.post(
            base + "/v1/embeddings",
            "{\"input\": [\"hello ||| world\", \"hello |||\"], \"model\": \"model\"}",
            "Authorization",
            "Bearer " + KEY);
    assertEquals(200, openAi.statusCode(), openAi.body());
    JsonNode embedding = Wire.json(openAi).get("data").get(0).get("embedding");
    float[] got = new float[embedding.size()];
    for (int d = 0; d < got.length; d++) {
      got[d] = embedding.get(d).floatValue();
    }
    assertArrayEquals(Vectors.unit(literal), got, 1e-6f);
    assertFalse(java.util.Arrays.equals(pair, got), "not bert-as-service's sentence pair");
    // [CLS] hello | | | world [SEP] and [CLS] hello | | | [SEP]
    assertEquals(13, Wire.json(openAi).get("usage").get("prompt_tokens").asInt());
    HttpResponse<String> tei =
        Wire.post(
            base + "/embed",
            "{\"inputs\": \"hello ||| world\", \"normalize\": false}",
            "Authorization",
            "Bearer " + KEY);
    assertEquals(200, tei.statusCode(), tei.body());
    JsonNode teiVector = Wire.json(tei).get(0);
    for (int d = 0; d < literal.length; d++) {
      assertEquals(literal[d], teiVector.get(d).floatValue(), 1e-6f);
    }
    // bert-as-service's own route keeps its convention
    HttpResponse<String> encode =
        Wire.post(
            base + "/encode",
            "{\"texts\": [\"hello ||| world\"]}",
            "Authorization",
            "Bearer " + KEY);
    assertEquals(200, encode.statusCode(), encode.body());
    JsonNode pairVector = Wire.json(encode).get("result").get(0);
    for (int d = 0; d < pair.length; d++) {
      assertEquals(pair[d], pairVector.get(d).floatValue(), 1e-6f);
    }
  }

  @Test
  void langChainsTokenIdsGetAnAnswerAPythonUserCanActOn() throws Exception {
    // LangChain's OpenAIEmbeddings (check_embedding_ctx_length=True, its default) sends tiktoken
    // ids
    for (String input : List.of("[[15339, 1917], [1820, 3290]]", "[15339, 1917]")) {
      HttpResponse<String> r =
          Wire.post(
              base + "/v1/embeddings",
              "{\"input\": " + input + ", \"model\": \"model\", \"encoding_format\": \"base64\"}",
              "Authorization",
              "Bearer " + KEY);
      assertEquals(400, r.statusCode(), r.body());
      JsonNode error = Wire.json(r).get("error");
      String message = error.get("message").asText();
      assertTrue(message.contains("check_embedding_ctx_length=False"), message);
      assertTrue(message.contains("send the texts as strings"), message);
      for (String unwanted : List.of("Integer", "is_tokenized", "java", "texts'")) {
        assertFalse(message.contains(unwanted), unwanted + " in " + message);
      }
      assertEquals("input", error.get("param").asText());
      assertEquals("invalid_request_error", error.get("type").asText());
    }
    HttpResponse<String> mixed =
        Wire.post(
            base + "/v1/embeddings", "{\"input\": [\"a\", 5]}", "Authorization", "Bearer " + KEY);
    assertEquals(
        "'input'[1] must be a string, not a number",
        Wire.json(mixed).get("error").get("message").asText());
  }

  @Test
  void langChain4jsOpenAiEmbeddingModelEndToEnd() throws Exception {
    OpenAiEmbeddingModel model =
        OpenAiEmbeddingModel.builder()
            .baseUrl(base + "/v1")
            .apiKey(KEY)
            .modelName("model") // the tiny model's folder name
            .maxRetries(0)
            .build();
    List<Embedding> embeddings =
        model.embedAll(TEXTS.stream().map(TextSegment::from).toList()).content();
    float[][] expected = direct.encode(TEXTS);
    for (int i = 0; i < TEXTS.size(); i++) {
      assertArrayEquals(Vectors.unit(expected[i]), embeddings.get(i).vector(), 1e-6f);
    }
    OpenAiEmbeddingModel shorter =
        OpenAiEmbeddingModel.builder()
            .baseUrl(base + "/v1")
            .apiKey(KEY)
            .modelName("model") // the tiny model's folder name
            .dimensions(8)
            .maxRetries(0)
            .build();
    assertEquals(8, shorter.embed("hello world").content().dimension());
    assertEquals(
        List.of(server.settings().engine().modelName()),
        Wire.json(get("/v1/models")).findValuesAsText("id"));
  }

  static HttpResponse<String> get(String path) throws Exception {
    return Wire.get(base + path, "Authorization", "Bearer " + KEY);
  }
}

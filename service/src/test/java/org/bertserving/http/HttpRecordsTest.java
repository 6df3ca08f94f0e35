package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.util.List;
import org.bertserving.client.LabelScore;
import org.bertserving.client.RerankResult;
import org.bertserving.client.SdkJson;
import org.bertserving.client.ServerStatus;
import org.bertserving.client.http.EncodeAnswer;
import org.bertserving.client.http.EncodeBody;
import org.bertserving.client.http.ErrorAnswer;
import org.bertserving.client.http.PredictBody;
import org.bertserving.client.http.RerankAnswer;
import org.bertserving.client.http.RerankBody;
import org.bertserving.client.protocol.EncodeReply;
import org.junit.jupiter.api.Test;

/**
 * The SDK's HTTP records through the server's mapper and the SDK's: what one side writes, the other
 * reads and writes again as the same JSON, in the shape the routes have always had.
 */
class HttpRecordsTest {
  private static final ObjectMapper SERVER = Json.MAPPER;
  private static final ObjectMapper SDK = SdkJson.mapper();

  /** {@code record} written by {@code from}, read by {@code to}: the same JSON from both. */
  private static <T> String bothWays(T record, Class<T> type, ObjectMapper from, ObjectMapper to)
      throws IOException {
    String written = from.writeValueAsString(record);
    T read = to.readValue(written, type);
    assertEquals(written, to.writeValueAsString(read), type.getSimpleName() + " read back");
    assertEquals(
        written,
        from.writeValueAsString(from.readValue(to.writeValueAsString(read), type)),
        type.getSimpleName() + " read back again");
    return written;
  }

  @Test
  void encodeBodyAsTheSdkSendsItAndTheServerReadsIt() throws Exception {
    EncodeBody sent =
        new EncodeBody(
            null,
            SDK.valueToTree(List.of("hello", "a ||| b")),
            false,
            true,
            "query: ",
            true,
            8,
            "m");
    String json = bothWays(sent, EncodeBody.class, SDK, SERVER);
    assertEquals(
        "{\"texts\":[\"hello\",\"a ||| b\"],\"is_tokenized\":false,\"show_tokens\":true,"
            + "\"prompt\":\"query: \",\"normalize\":true,\"dimensions\":8,\"model\":\"m\"}",
        json);
    EncodeBody read = Fields.read(SERVER.readTree(json), EncodeBody.class);
    assertEquals(json, SERVER.writeValueAsString(read));
    assertEquals("m", read.request().model());
    assertEquals(8, read.request().dimensions());
    // the options left out are not sent; an id sent (even null) comes through
    assertEquals(
        "{\"texts\":[[\"hi\"]],\"is_tokenized\":true,\"show_tokens\":false}",
        bothWays(
            new EncodeBody(
                null, SDK.valueToTree(List.of(List.of("hi"))), true, false, null, null, null, null),
            EncodeBody.class,
            SDK,
            SERVER));
    EncodeBody withId =
        Fields.read(
            SERVER.readTree("{\"id\": null, \"texts\": [\"a\"], \"x\": 1}"), EncodeBody.class);
    assertEquals(NullNode.getInstance(), withId.id());
    assertEquals(
        "{\"id\":null,\"texts\":[\"a\"],\"is_tokenized\":false,\"show_tokens\":false}",
        SERVER.writeValueAsString(withId));
  }

  @Test
  void theServerReadsNoFieldOfAnotherType() throws Exception {
    for (String[] bad :
        new String[][] {
          {"{\"show_tokens\": \"true\"}", "'show_tokens' must be true or false, not \"true\""},
          {"{\"is_tokenized\": 0}", "'is_tokenized' must be true or false, not 0"},
          {"{\"dimensions\": 8.0}", "'dimensions' must be an integer, not 8.0"},
          {"{\"dimensions\": 30000000000}", "'dimensions' must be an integer, not 30000000000"},
          {"{\"model\": 7}", "'model' must be a string, not 7"},
          {"{\"prompt\": [\"x\"]}", "'prompt' must be a string, not [\"x\"]"},
        }) {
      Fields.BadField e =
          assertThrows(
              Fields.BadField.class,
              () -> Fields.read(SERVER.readTree(bad[0]), EncodeBody.class),
              bad[0]);
      assertEquals(bad[1], e.getMessage());
    }
  }

  @Test
  void encodeAnswerPooledAndTokenLevel() throws Exception {
    float[] a = {0.28430006f, -0.38112676f, 1.0E-7f};
    float[] b = {3.25f, 0f, -7f};
    EncodeAnswer pooled =
        EncodeAnswer.of(
            new EncodeReply(
                new IntNode(123), 3, 0, false, List.of(a, b), null, new int[] {3, 4}, "bert"));
    String json = bothWays(pooled, EncodeAnswer.class, SERVER, SDK);
    assertEquals(
        "{\"id\":123,\"result\":[[0.28430006,-0.38112676,1.0E-7],[3.25,0.0,-7.0]],"
            + "\"status\":200,\"model\":\"bert\"}",
        json);
    EncodeAnswer read = SDK.readValue(json, EncodeAnswer.class);
    assertArrayEquals(a, read.vectors()[0]);
    assertArrayEquals(b, read.vectors()[1]);
    assertNull(read.tokenVectors());

    // NONE pooling: each input's token vectors, padded to the longest; tokens when asked
    EncodeAnswer tokens =
        EncodeAnswer.of(
            new EncodeReply(
                null,
                2,
                2,
                true,
                List.of(new float[] {1, 2, 3, 4}, new float[] {5, 6}),
                List.of(List.of("[CLS]", "hi"), List.of("x")),
                new int[] {2, 1}));
    json = bothWays(tokens, EncodeAnswer.class, SERVER, SDK);
    assertEquals(
        "{\"id\":null,\"result\":[[[1.0,2.0],[3.0,4.0]],[[5.0,6.0],[0.0,0.0]]],"
            + "\"tokens\":[[\"[CLS]\",\"hi\"],[\"x\"]],\"status\":200}",
        json);
    read = SDK.readValue(json, EncodeAnswer.class);
    assertNull(read.vectors());
    assertArrayEquals(new float[] {5, 6}, read.tokenVectors()[1][0]);
    assertEquals(List.of("x"), read.tokens().get(1));
  }

  @Test
  void errorAnswerWithAndWithoutAnId() throws Exception {
    ApiError error = ApiError.of(400, "invalid_input", "texts[1] is empty");
    assertEquals(
        "{\"status\":400,\"type\":\"invalid_input\",\"description\":\"texts[1] is empty\"}",
        bothWays(error.answer(), ErrorAnswer.class, SERVER, SDK));
    ErrorAnswer withId = new ErrorAnswer(new IntNode(7), 429, "overloaded", "busy");
    assertEquals(
        "{\"id\":7,\"status\":429,\"type\":\"overloaded\",\"description\":\"busy\"}",
        bothWays(withId, ErrorAnswer.class, SERVER, SDK));
  }

  @Test
  void statusAsTheFrontendMadeIt() throws Exception {
    JsonNode made =
        SERVER.readTree(
            "{\"server_version\":\"0.1.0\",\"tuned_model_dir\":null,\"max_seq_len\":25,"
                + "\"pooling_layer\":[-2],\"pooling_strategy\":\"REDUCE_MEAN\","
                + "\"statistic\":{\"num_data_request\":3,\"avg_size_per_request\":1.5},"
                + "\"num_workers\":2,\"pending_rows\":10,\"backlog_seconds\":0.1}");
    ServerStatus status = SERVER.convertValue(made, ServerStatus.class);
    // written through the record, the status is what the frontend's tree was, key for key
    assertEquals(
        SERVER.writeValueAsString(made), bothWays(status, ServerStatus.class, SERVER, SDK));
    ServerStatus read = SDK.readValue(SERVER.writeValueAsString(status), ServerStatus.class);
    assertEquals(25, read.maxSeqLen());
    assertEquals(List.of(-2), read.poolingLayer());
    assertEquals(2, read.numWorkers());
    assertEquals(10, read.pendingRows());
    assertEquals(3, read.statistic().get("num_data_request"));
  }

  @Test
  void scoringBodiesAndAnswers() throws Exception {
    assertEquals(
        "{\"query\":\"q\",\"documents\":[\"a\",\"b\"],\"top_n\":1}",
        bothWays(new RerankBody("q", List.of("a", "b"), 1), RerankBody.class, SDK, SERVER));
    assertEquals(
        "{\"query\":\"q\",\"documents\":[\"a\"]}",
        bothWays(new RerankBody("q", List.of("a"), null), RerankBody.class, SDK, SERVER));
    assertEquals(
        "{\"inputs\":[[\"a\"],[\"b\"]]}",
        bothWays(PredictBody.of(List.of("a", "b")), PredictBody.class, SDK, SERVER));
    RerankAnswer ranked =
        new RerankAnswer(
            "r1",
            List.of(
                new RerankAnswer.Result(1, 0.831f, new RerankAnswer.Document("b")),
                new RerankAnswer.Result(0, 0.25, null)),
            "m",
            new RerankAnswer.Usage(7),
            null);
    // the scores as the float32s they were computed in, the document only when returned
    assertEquals(
        "{\"id\":\"r1\",\"results\":[{\"index\":1,\"relevance_score\":0.831,"
            + "\"document\":{\"text\":\"b\"}},{\"index\":0,\"relevance_score\":0.25}],"
            + "\"model\":\"m\",\"usage\":{\"total_tokens\":7}}",
        bothWays(ranked, RerankAnswer.class, SERVER, SDK));
    assertEquals(
        List.of(new RerankResult(1, 0.831), new RerankResult(0, 0.25)),
        SDK.readValue(SERVER.writeValueAsBytes(ranked), RerankAnswer.class).ranking());
    assertEquals(
        "{\"score\":0.831,\"label\":\"positive\"}",
        bothWays(new LabelScore("positive", 0.831f), LabelScore.class, SERVER, SDK));
  }

  @Test
  void openAisAnswersKeepOpenAisOrder() throws Exception {
    OpenAiJson.Embeddings embeddings =
        new OpenAiJson.Embeddings(
            List.of(
                new OpenAiJson.Embedding(0, new float[] {0.5f, -1f}),
                new OpenAiJson.Embedding(1, "AAAAPwAAgL8=")),
            "m",
            new OpenAiJson.Usage(3, 3));
    assertEquals(
        "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,"
            + "\"embedding\":[0.5,-1.0]},{\"object\":\"embedding\",\"index\":1,"
            + "\"embedding\":\"AAAAPwAAgL8=\"}],\"model\":\"m\","
            + "\"usage\":{\"prompt_tokens\":3,\"total_tokens\":3}}",
        SERVER.writeValueAsString(embeddings));
    assertEquals(
        "{\"object\":\"list\",\"data\":[{\"id\":\"m\",\"object\":\"model\",\"created\":5,"
            + "\"owned_by\":\"bert-serving\",\"kind\":\"rerank\"}]}",
        SERVER.writeValueAsString(
            new OpenAiJson.Models(
                List.of(new OpenAiJson.Model("m", 5, "bert-serving", "rerank")))));
    Fields.BadField e =
        assertThrows(
            Fields.BadField.class,
            () ->
                Fields.read(
                    SERVER.readTree("{\"input\": \"a\", \"dimensions\": \"8\"}"),
                    OpenAiJson.EmbeddingsBody.class));
    assertEquals("'dimensions' must be an integer, not \"8\"", e.getMessage());
  }
}

package org.bertserving.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The SDK's streaming reader of /encode answers, on the shapes the server sends and on others. */
class ReplyReaderTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static EncodeResult read(String json) throws IOException {
    return ReplyReader.read(JSON, json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void pooledVectorsWithTheServersOtherFields() throws Exception {
    EncodeResult r =
        read(
            "{\"id\": {\"any\": [1, 2]}, \"result\": [[0.5, -1e-3, 2], [3.25, 0, -7]],"
                + " \"unknown\": null, \"status\": 200}");
    assertEquals(2, r.vectors().length);
    assertArrayEquals(new float[] {0.5f, -1e-3f, 2f}, r.vectors()[0]);
    assertArrayEquals(new float[] {3.25f, 0f, -7f}, r.vectors()[1]);
    assertNull(r.tokenVectors());
    assertNull(r.tokens());
  }

  @Test
  void floatsAreReadExactly() throws Exception {
    // the shortest digits of each float, as the server writes them, give that float back
    float[] values = {0.28430006f, -0.38112676f, 1.0E-7f, 3.4028235E38f, -1.4E-45f};
    StringBuilder json = new StringBuilder("{\"result\": [[");
    for (int i = 0; i < values.length; i++) {
      json.append(i == 0 ? "" : ",").append(values[i]);
    }
    assertArrayEquals(values, read(json.append("]]}").toString()).vectors()[0]);
  }

  @Test
  void tokenVectorsAndTokens() throws Exception {
    EncodeResult r =
        read(
            "{\"result\": [[], [[1, 2], [3, 4]], [[5, 6]]],"
                + " \"tokens\": [[], [\"[CLS]\", \"hi\"], [\"x\"]]}");
    assertNull(r.vectors());
    assertEquals(3, r.tokenVectors().length);
    assertEquals(0, r.tokenVectors()[0].length, "an empty first row does not hide the shape");
    assertArrayEquals(new float[] {3, 4}, r.tokenVectors()[1][1]);
    assertArrayEquals(new float[] {5, 6}, r.tokenVectors()[2][0]);
    assertEquals(List.of("[CLS]", "hi"), r.tokens().get(1));
  }

  @Test
  void emptyAnswers() throws Exception {
    assertEquals(0, read("{\"result\": []}").vectors().length);
    assertEquals(0, read("{\"result\": [[], []]}").vectors()[1].length);
  }

  @Test
  void whatIsNotAnAnswerIsRefusedByName() {
    for (String[] bad :
        new String[][] {
          {"[1, 2]", "not a JSON object"},
          {"{\"status\": 200}", "no 'result'"},
          {"{\"result\": [1, 2]}", "list of numbers"},
          {"{\"result\": [[[1], 2]]}", "mixes numbers and lists"},
          {"{\"result\": [[1, [2]]]}", "where a number belongs"},
          {"{\"result\": [[1, 2], [[3]]]}", "mixes vectors and lists of vectors"},
          {"{\"result\": [[\"NaN\"]]}", "where a number belongs"},
        }) {
      IOException e = assertThrows(IOException.class, () -> read(bad[0]), bad[0]);
      assertTrue(e.getMessage().contains(bad[1]), bad[0] + ": " + e.getMessage());
    }
  }
}

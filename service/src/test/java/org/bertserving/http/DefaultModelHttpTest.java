package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bertserving.engine.DefaultModelFixtureTest;
import org.bertserving.engine.Fixtures;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/** {@code POST /encode} on the default model at the defaults reproduces Google's vectors. */
class DefaultModelHttpTest {

  @Test
  void encodeOnTheDefaultModelReproducesTheFixtures() throws Exception {
    JsonNode fixture =
        new ObjectMapper().readTree(Fixtures.file("embeddings_public.json").toFile());
    List<String> texts = new ArrayList<>();
    fixture.get("cases").forEach(c -> texts.add(c.get("text").asText()));
    try (BertServer server =
        TestNodes.serving(
            Map.of(
                "bert-serving.engine.model-dir",
                "",
                "bert-serving.engine.max-seq-len",
                25,
                "bert-serving.engine.sized-sessions", // the default model as served
                true))) {
      String base = "http://127.0.0.1:" + server.httpPort();
      Wire.awaitReady(base);
      HttpResponse<String> r =
          Wire.post(
              base + "/encode",
              new ObjectMapper().writeValueAsString(Map.of("id", 7, "texts", texts)));
      assertEquals(200, r.statusCode(), r.body());
      JsonNode result = Wire.json(r).get("result");
      for (int i = 0; i < texts.size(); i++) {
        DefaultModelFixtureTest.assertMatches(
            floats(fixture.get("cases").get(i).get("embedding")),
            floats(result.get(i)),
            "case " + i);
      }
    }
  }

  static float[] floats(JsonNode array) {
    float[] out = new float[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).floatValue();
    }
    return out;
  }
}

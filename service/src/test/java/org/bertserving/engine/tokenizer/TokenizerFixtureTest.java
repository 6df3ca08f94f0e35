package org.bertserving.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.bertserving.engine.Fixtures;
import org.junit.jupiter.api.Test;

/** Every line of Google's tokenizer output ({@code tokenization_public.jsonl}), both casings. */
class TokenizerFixtureTest {

  @Test
  void everyFixtureLineIsTokenizedAsGooglesFullTokenizer() throws IOException {
    Vocab vocab = Fixtures.defaultVocab();
    assertEquals(30522, vocab.size());
    FullTokenizer uncased = new FullTokenizer(vocab, true);
    FullTokenizer cased = new FullTokenizer(vocab, false);
    ObjectMapper json = new ObjectMapper();
    int lines = 0;
    int lowerCased = 0;
    for (String line : Files.readAllLines(Fixtures.file("tokenization_public.jsonl"))) {
      JsonNode c = json.readTree(line);
      boolean lower = c.get("do_lower_case").asBoolean();
      FullTokenizer tokenizer = lower ? uncased : cased;
      String text = c.get("text").asText();
      List<String> expected = new ArrayList<>();
      c.get("tokens").forEach(t -> expected.add(t.asText()));
      int[] expectedIds = new int[c.get("ids").size()];
      for (int i = 0; i < expectedIds.length; i++) {
        expectedIds[i] = c.get("ids").get(i).asInt();
      }
      List<String> tokens = tokenizer.tokenize(text);
      assertEquals(
          expected, tokens, "tokens of " + json.writeValueAsString(text) + " lower=" + lower);
      assertArrayEquals(expectedIds, tokenizer.convertTokensToIds(tokens), "ids of " + text);
      lines++;
      lowerCased += lower ? 1 : 0;
    }
    assertEquals(180, lines, "every line of the fixture was checked");
    assertEquals(90, lowerCased, "both casings");
  }
}

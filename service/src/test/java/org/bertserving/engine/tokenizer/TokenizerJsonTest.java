package org.bertserving.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bertserving.engine.Fixtures;
import org.bertserving.engine.NamedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code tokenizer.json} read by the engine gives the tokens of Hugging Face's own tokenizers
 * (DJL's binding, offline) on every text of Google's tokenization fixture (control and zero-width
 * characters, CJK, emoji, very long words), as the file says (uncased) and edited to cased with and
 * without accent stripping.
 */
class TokenizerJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void everyFixtureTextIsTokenizedAsHuggingFacesTokenizers(@TempDir Path tmp) throws IOException {
    Path original = NamedModel.ALL_MINILM_L6_V2.unpacked().resolve("tokenizer.json");
    Set<String> texts = new LinkedHashSet<>();
    for (String line : Files.readAllLines(Fixtures.file("tokenization_public.jsonl"))) {
      texts.add(JSON.readTree(line).get("text").asText());
    }
    texts.add("ΟΔΥΣΣΕΥΣ İstanbul ǅemal ẞ Σ.");
    texts.add("literal [SEP] and [MASK]] and [[CLS]");
    assertEquals(71, texts.size(), "the fixture's 69 distinct texts and two more");
    String json = Files.readString(original);
    String cased = json.replace("\"lowercase\": true", "\"lowercase\": false");
    for (String[] variant :
        new String[][] {
          {"uncased", json},
          {"cased", cased},
          {"cased-stripped", cased.replace("\"strip_accents\": null", "\"strip_accents\": true")}
        }) {
      Path file = tmp.resolve(variant[0] + ".json");
      Files.writeString(file, variant[1]);
      FullTokenizer ours = TokenizerJson.read(file, null);
      try (HuggingFaceTokenizer theirs = HfTokenizers.open(file)) {
        for (String text : texts) {
          List<String> expected = Arrays.asList(theirs.encode(text, false, false).getTokens());
          assertEquals(
              expected, ours.tokenize(text), variant[0] + ": " + JSON.writeValueAsString(text));
        }
      }
    }
    assertEquals(
        List.of("hello", "[SEP]", "world"),
        TokenizerJson.read(original, null).tokenize("Hello [SEP] world"),
        "special tokens stay whole");
    assertEquals(
        new ArrayList<>(List.of("hello")),
        TokenizerJson.read(original, false).tokenize("hello"),
        "-cased_tokenization keeps case");
  }
}

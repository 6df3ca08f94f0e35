package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bertserving.engine.CallOptions.Direction;
import org.bertserving.engine.TokenCodec.Token;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What text-embeddings-inference's requests ask of the engine: truncation refused or on either
 * side, named prompts, tokens with their offsets, ids back to text.
 */
class RequestOptionsEngineTest {
  @TempDir static Path tmp;
  static BertEncoder encoder;

  @BeforeAll
  static void load() throws IOException {
    Path model = TinyBert.writeGoogleFolder(tmp.resolve("tiny"), TinyBert.CONFIG, 7, 0);
    encoder = BertEncoder.load(EngineSettings.builder().modelDir(model).maxSeqLen(6).build());
  }

  @AfterAll
  static void close() {
    encoder.close();
  }

  static CallOptions truncation(Boolean truncate, Direction direction) {
    return new CallOptions(null, null, null, truncate, direction, null);
  }

  static List<String> tokens(String text, CallOptions options) {
    return encoder.featurizer().featurize(List.of(text), false, options).rows().get(0).tokens();
  }

  @Test
  void longInputsAreCutOnEitherSideOrRefused() {
    String text = "hello world how are you";
    assertEquals(
        List.of("[CLS]", "hello", "world", "how", "are", "[SEP]"),
        tokens(text, CallOptions.DEFAULTS),
        "bert-as-service: the end is cut");
    assertEquals(
        List.of("[CLS]", "world", "how", "are", "you", "[SEP]"),
        tokens(text, truncation(true, Direction.LEFT)));
    assertEquals(
        List.of("[CLS]", "hello", "world", "[SEP]", "are", "[SEP]"),
        tokens("hello world ||| are you", CallOptions.DEFAULTS),
        "pairs: the longer side first");
    assertEquals(
        List.of("[CLS]", "hello", "world", "[SEP]", "you", "[SEP]"),
        tokens("hello world ||| are you", truncation(true, Direction.LEFT)),
        "pairs: from its start");
    InvalidInputException refused =
        assertThrows(
            InvalidInputException.class,
            () ->
                encoder.featurizer().featurize(List.of("a", text), false, truncation(false, null)));
    assertEquals(
        "input 1: `inputs` must have less than 6 tokens. Given: 7 (truncate: true cuts it)",
        refused.getMessage());
    assertEquals(
        6,
        tokens("hello world how are", truncation(false, null)).size(),
        "exactly the limit passes");
  }

  @Test
  void namedPromptsComeFromTheModel() throws IOException {
    Prompts e5 = Prompts.of(EngineSettings.builder().model("e5-small-v2").build());
    assertEquals("query: ", e5.prefix(new CallOptions(null, null, null, null, null, "query")));
    assertEquals("passage: ", e5.prefix(new CallOptions(null, null, null, null, null, "passage")));
    InvalidInputException unknown =
        assertThrows(
            InvalidInputException.class,
            () -> e5.prefix(new CallOptions(null, null, null, null, null, "doc")));
    assertEquals(
        "prompt_name 'doc' is not one of this model's prompts [passage, query]",
        unknown.getMessage());
    Prompts bge = Prompts.of(EngineSettings.builder().model("bge-small-en-v1.5").build());
    assertEquals(
        "Represent this sentence for searching relevant passages: ",
        bge.prefix(new CallOptions(null, null, null, null, null, "query")));
    assertEquals(
        "",
        Prompts.of(EngineSettings.builder().model("all-minilm-l6-v2").build())
            .prefix(CallOptions.DEFAULTS));

    Path folder = Files.createDirectories(tmp.resolve("prompted"));
    Files.writeString(
        folder.resolve("config_sentence_transformers.json"),
        "{\"prompts\": {\"query\": \"the \", \"document\": \"\"}, \"default_prompt_name\": null}");
    Prompts own = Prompts.of(EngineSettings.builder().modelDir(folder).build());
    assertEquals("the ", own.prefix(new CallOptions(null, null, null, null, null, "query")));
    assertEquals(
        List.of("[CLS]", "the", "dog", "[SEP]"),
        encoder
            .featurizer()
            .featurize(List.of("dog"), false, new CallOptions("the ", null, null))
            .rows()
            .get(0)
            .tokens());
  }

  @Test
  void tokensCarryTheirIdsAndByteOffsetsInTheText() {
    TokenCodec t = encoder.featurizer().tokenCodec();
    String text = "The DOGs sat, runs! zebra café";
    List<Token> tokens = t.tokenize(text, true, CallOptions.DEFAULTS);
    assertEquals(
        List.of("[CLS]", "The", "DOG", "s", "sat", ",", "run", "s", "!", "zebra", "café", "[SEP]"),
        tokens.stream().map(Token::text).toList());
    assertEquals(TinyBert.VOCAB.indexOf("dog"), tokens.get(2).id());
    assertEquals(TinyBert.VOCAB.indexOf("##s"), tokens.get(3).id());
    assertEquals(
        TinyBert.VOCAB.indexOf("[UNK]"), tokens.get(9).id(), "zebra is not in the vocabulary");
    assertTrue(tokens.get(0).special());
    assertNull(tokens.get(0).start());
    assertEquals(4, tokens.get(2).start());
    assertEquals(7, tokens.get(2).stop());
    assertEquals(7, tokens.get(3).start());
    assertEquals(8, tokens.get(3).stop());
    Token cafe = tokens.get(10);
    assertEquals(26, cafe.start());
    assertEquals(
        26 + "café".getBytes(java.nio.charset.StandardCharsets.UTF_8).length,
        cafe.stop(),
        "bytes of UTF-8, as text-embeddings-inference counts");
    assertEquals(
        List.of("The", "DOG", "s"),
        t.tokenize(text, false, CallOptions.DEFAULTS).subList(0, 3).stream()
            .map(Token::text)
            .toList(),
        "no [CLS] without special tokens");
  }

  @Test
  void idsDecodeAsHuggingFacesWordPieceDecoder() {
    TokenCodec t = encoder.featurizer().tokenCodec();
    List<Integer> ids =
        t.tokenize("the dogs sat, how are you?", true, CallOptions.DEFAULTS).stream()
            .map(Token::id)
            .toList();
    assertEquals("the dogs sat, how are you?", t.decode(ids, true));
    assertEquals("[CLS] the dogs sat, how are you? [SEP]", t.decode(ids, false));
    assertEquals(
        "the", t.decode(List.of(5, 100_000), true), "ids outside the vocabulary are skipped");
  }
}

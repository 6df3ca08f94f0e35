package org.bertserving.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} of the BERT kind: a WordPiece model, a {@code
 * BertNormalizer}, a {@code BertPreTokenizer} and {@code [CLS] A [SEP]} around each text. Anything
 * else (BPE, Unigram, other special tokens) is refused with the field that says so. Its own
 * truncation and padding are ignored: the engine truncates at {@code max_seq_len} and pads each run
 * to its longest row.
 */
public final class TokenizerJson {
  private TokenizerJson() {}

  /**
   * Reads {@code file}.
   *
   * @param lowercase {@code false} to keep case whatever the file says ({@code
   *     -cased_tokenization})
   */
  public static FullTokenizer read(Path file, Boolean lowercase) throws IOException {
    JsonNode json;
    try {
      json = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException("cannot read tokenizer " + file + ": " + e.getMessage(), e);
    }
    JsonNode model = json.path("model");
    String type = model.path("type").asText("");
    if (!type.equals("WordPiece")) {
      throw refuse(file, "model.type", "'" + type + "'", "'WordPiece' (a BERT-family tokenizer)");
    }
    if (!model.path("unk_token").asText("").equals(Vocab.UNK)) {
      throw refuse(file, "model.unk_token", model.path("unk_token"), "\"" + Vocab.UNK + "\"");
    }
    Vocab vocab = vocab(file, model.path("vocab"));
    Normalization normalization = normalization(file, json.path("normalizer"), lowercase);
    String pre = json.path("pre_tokenizer").path("type").asText("");
    if (!pre.equals("BertPreTokenizer")) {
      throw refuse(file, "pre_tokenizer.type", "'" + pre + "'", "'BertPreTokenizer'");
    }
    checkSpecialTokens(file, json.path("post_processor"));
    List<String> added = new ArrayList<>();
    for (JsonNode token : json.path("added_tokens")) {
      String content = token.path("content").asText("");
      // the normalized ones would be matched after normalization; BERT's never are
      if (!content.isEmpty() && !token.path("normalized").asBoolean(false)) {
        added.add(content);
      }
    }
    WordpieceTokenizer wordpiece =
        new WordpieceTokenizer(
            vocab,
            model.path("max_input_chars_per_word").asInt(100),
            model.path("continuing_subword_prefix").asText("##"));
    return new FullTokenizer(vocab, new BasicTokenizer(normalization), wordpiece, added);
  }

  private static Vocab vocab(Path file, JsonNode map) throws IOException {
    if (!map.isObject() || map.isEmpty()) {
      throw refuse(file, "model.vocab", "missing or empty", "a map of word pieces to ids");
    }
    String[] byId = new String[map.size()];
    for (Map.Entry<String, JsonNode> e : map.properties()) {
      int id = e.getValue().asInt(-1);
      if (id < 0 || id >= byId.length || byId[id] != null) {
        throw refuse(
            file,
            "model.vocab",
            "id " + e.getValue() + " of '" + e.getKey() + "'",
            "ids 0.." + (byId.length - 1) + ", each once");
      }
      byId[id] = e.getKey();
    }
    try {
      return Vocab.of(Arrays.asList(byId));
    } catch (IllegalArgumentException e) {
      throw new IOException("tokenizer " + file + ": model.vocab: " + e.getMessage(), e);
    }
  }

  /**
   * {@code BertNormalizer}; {@code strip_accents: null} follows {@code lowercase}, as in
   * tokenizers.
   */
  private static Normalization normalization(Path file, JsonNode normalizer, Boolean lowercase)
      throws IOException {
    if (normalizer.isNull() || normalizer.isMissingNode()) {
      return new Normalization(false, false, false, false, true);
    }
    String type = normalizer.path("type").asText("");
    if (!type.equals("BertNormalizer")) {
      throw refuse(file, "normalizer.type", "'" + type + "'", "'BertNormalizer'");
    }
    boolean lower = normalizer.path("lowercase").asBoolean(true);
    if (Boolean.FALSE.equals(lowercase)) {
      lower = false;
    }
    JsonNode strip = normalizer.path("strip_accents");
    boolean stripAccents = strip.isBoolean() ? strip.asBoolean() : lower;
    return new Normalization(
        lower,
        stripAccents,
        normalizer.path("clean_text").asBoolean(true),
        normalizer.path("handle_chinese_chars").asBoolean(true),
        true);
  }

  /** The engine puts {@code [CLS]} and {@code [SEP]} around texts: the file must agree. */
  private static void checkSpecialTokens(Path file, JsonNode post) throws IOException {
    String type = post.path("type").asText("");
    List<String> specials = new ArrayList<>();
    if (type.equals("TemplateProcessing")) {
      for (JsonNode piece : post.path("single")) {
        if (piece.has("SpecialToken")) {
          specials.add(piece.path("SpecialToken").path("id").asText());
        }
      }
    } else if (type.equals("BertProcessing")) {
      specials.add(post.path("cls").path(0).asText());
      specials.add(post.path("sep").path(0).asText());
    } else {
      throw refuse(
          file,
          "post_processor.type",
          "'" + type + "'",
          "'TemplateProcessing' or 'BertProcessing'");
    }
    if (!specials.equals(List.of(Vocab.CLS, Vocab.SEP))) {
      throw refuse(
          file,
          "post_processor",
          "special tokens " + specials,
          "[" + Vocab.CLS + ", " + Vocab.SEP + "] around each text");
    }
  }

  private static IOException refuse(Path file, String field, Object found, String expected) {
    return new IOException(
        "tokenizer " + file + ": " + field + " is " + found + ", expected " + expected);
  }
}

package org.bertserving.engine.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.bertserving.engine.BertConfig;

/**
 * A Hugging Face {@code config.json} of a model this engine can run: BERT, or a family that is BERT
 * under other tensor names (ELECTRA's discriminator, when its embeddings are as wide as its hidden
 * states). Anything else is refused naming the field.
 */
public final class HfConfig {
  private static final Set<String> FAMILIES = Set.of("bert", "electra");

  /** Hugging Face's activation names to BertConfig's (whose "gelu" is Google's tanh form). */
  private static final Map<String, String> ACTIVATIONS =
      Map.of(
          "gelu", "gelu_exact",
          "gelu_new", "gelu",
          "gelu_pytorch_tanh", "gelu",
          "gelu_fast", "gelu",
          "relu", "relu",
          "tanh", "tanh");

  private HfConfig() {}

  public static BertConfig read(Path file) throws IOException {
    JsonNode json;
    try {
      json = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException("cannot read model config " + file + ": " + e.getMessage(), e);
    }
    String family = json.path("model_type").asText("");
    if (!FAMILIES.contains(family)) {
      throw refuse(
          file,
          "model_type",
          "'" + family + "' (" + json.path("architectures") + ")",
          "'bert' or 'electra': this engine runs BERT-family encoders only");
    }
    String position = json.path("position_embedding_type").asText("absolute");
    if (!position.equals("absolute")) {
      throw refuse(file, "position_embedding_type", "'" + position + "'", "'absolute'");
    }
    int hidden = integer(file, json, "hidden_size");
    if (json.has("embedding_size") && json.get("embedding_size").asInt() != hidden) {
      throw refuse(
          file,
          "embedding_size",
          json.get("embedding_size"),
          "hidden_size " + hidden + " (a projected embedding is not a BERT)");
    }
    String act = json.path("hidden_act").asText("gelu");
    if (!ACTIVATIONS.containsKey(act)) {
      throw refuse(file, "hidden_act", "'" + act + "'", "one of " + ACTIVATIONS.keySet());
    }
    try {
      return new BertConfig(
          integer(file, json, "vocab_size"),
          hidden,
          integer(file, json, "num_hidden_layers"),
          integer(file, json, "num_attention_heads"),
          integer(file, json, "intermediate_size"),
          ACTIVATIONS.get(act),
          integer(file, json, "max_position_embeddings"),
          json.path("type_vocab_size").asInt(2),
          json.path("layer_norm_eps").asDouble(BertConfig.LAYER_NORM_EPS));
    } catch (IllegalArgumentException e) {
      throw new IOException("model config " + file + ": " + e.getMessage(), e);
    }
  }

  private static int integer(Path file, JsonNode json, String key) throws IOException {
    JsonNode node = json.get(key);
    if (node == null || !node.canConvertToInt()) {
      throw new IOException("model config " + file + " has no integer '" + key + "'");
    }
    return node.asInt();
  }

  private static IOException refuse(Path file, String field, Object found, String expected) {
    return new IOException(
        "model config " + file + ": " + field + " is " + found + ", expected " + expected);
  }
}

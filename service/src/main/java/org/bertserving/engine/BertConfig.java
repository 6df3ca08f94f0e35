package org.bertserving.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The hyper-parameters of a BERT model, as in Google's {@code bert_config.json}. Only the fields
 * that shape the graph are kept; dropout does not matter for inference.
 *
 * @param hiddenAct Google's names: {@code gelu} is the tanh approximation of Google's {@code
 *     modeling.py}; {@code gelu_exact} the erf form that PyTorch's BERT calls "gelu"
 * @param layerNormEps 1e-12 in Google's and Hugging Face's BERTs
 */
public record BertConfig(
    int vocabSize,
    int hiddenSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int intermediateSize,
    String hiddenAct,
    int maxPositionEmbeddings,
    int typeVocabSize,
    double layerNormEps) {

  /** Google's layer-norm epsilon. */
  public static final double LAYER_NORM_EPS = 1e-12;

  private static final java.util.Set<String> ACTIVATIONS =
      java.util.Set.of("gelu", "gelu_exact", "relu", "tanh");

  public BertConfig {
    if (numAttentionHeads <= 0 || hiddenSize % numAttentionHeads != 0) {
      throw new IllegalArgumentException(
          "hidden_size "
              + hiddenSize
              + " is not a multiple of num_attention_heads "
              + numAttentionHeads);
    }
    if (!ACTIVATIONS.contains(hiddenAct)) {
      throw new IllegalArgumentException("hidden_act '" + hiddenAct + "' is not supported");
    }
  }

  /** A config with Google's layer-norm epsilon. */
  public BertConfig(
      int vocabSize,
      int hiddenSize,
      int numHiddenLayers,
      int numAttentionHeads,
      int intermediateSize,
      String hiddenAct,
      int maxPositionEmbeddings,
      int typeVocabSize) {
    this(
        vocabSize,
        hiddenSize,
        numHiddenLayers,
        numAttentionHeads,
        intermediateSize,
        hiddenAct,
        maxPositionEmbeddings,
        typeVocabSize,
        LAYER_NORM_EPS);
  }

  public int headSize() {
    return hiddenSize / numAttentionHeads;
  }

  /** Reads Google's {@code bert_config.json}; the error names the file and the missing key. */
  public static BertConfig read(Path file) throws IOException {
    JsonNode json;
    try {
      json = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException("cannot read BERT config " + file + ": " + e.getMessage(), e);
    }
    return new BertConfig(
        intField(json, file, "vocab_size"),
        intField(json, file, "hidden_size"),
        intField(json, file, "num_hidden_layers"),
        intField(json, file, "num_attention_heads"),
        intField(json, file, "intermediate_size"),
        json.path("hidden_act").asText("gelu"),
        intField(json, file, "max_position_embeddings"),
        json.path("type_vocab_size").asInt(2));
  }

  private static int intField(JsonNode json, Path file, String key) throws IOException {
    JsonNode node = json.get(key);
    if (node == null || !node.canConvertToInt()) {
      throw new IOException("BERT config " + file + " has no integer '" + key + "'");
    }
    return node.asInt();
  }

  /** Writes this config as Google's {@code bert_config.json} (used for tiny test models). */
  public void write(Path file) throws IOException {
    var json = new ObjectMapper().createObjectNode();
    json.put("vocab_size", vocabSize);
    json.put("hidden_size", hiddenSize);
    json.put("num_hidden_layers", numHiddenLayers);
    json.put("num_attention_heads", numAttentionHeads);
    json.put("intermediate_size", intermediateSize);
    json.put("hidden_act", hiddenAct);
    json.put("max_position_embeddings", maxPositionEmbeddings);
    json.put("type_vocab_size", typeVocabSize);
    json.put("hidden_dropout_prob", 0.1);
    json.put("attention_probs_dropout_prob", 0.1);
    json.put("initializer_range", 0.02);
    Files.writeString(
        file, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json));
  }
}

package org.bertserving.engine.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bertserving.engine.ModelDefaults;
import org.bertserving.engine.PoolingStrategy;

/**
 * A Hugging Face {@code BertForSequenceClassification} folder (a cross-encoder reranker or a
 * classifier): its {@code config.json} names the architecture and the labels ({@code id2label}, or
 * {@code num_labels} for unnamed ones). Its defaults: the raw logits of the head over the pooler
 * ({@link PoolingStrategy#LOGITS}), pairs cut at {@code max_position_embeddings} (512 at most, as
 * its tokenizer's {@code model_max_length}), not normalized.
 */
public final class SequenceClassification {
  private static final String ARCHITECTURE = "ForSequenceClassification";

  private SequenceClassification() {}

  /** The folder's defaults, or {@code null} when it is not a sequence classifier. */
  public static ModelDefaults read(Path dir) throws IOException {
    Path file = dir.resolve("config.json");
    if (!Files.isRegularFile(file)) {
      return null;
    }
    JsonNode config;
    try {
      config = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException("cannot read model config " + file + ": " + e.getMessage(), e);
    }
    boolean classifier = false;
    for (JsonNode architecture : config.path("architectures")) {
      classifier |= architecture.asText("").endsWith(ARCHITECTURE);
    }
    if (!classifier) {
      return null;
    }
    List<String> labels = labels(file, config);
    int positions = config.path("max_position_embeddings").asInt(512);
    return new ModelDefaults(
        Math.min(512, positions), List.of(-1), PoolingStrategy.LOGITS, false, labels);
  }

  /** {@code id2label} in id order; {@code LABEL_i} when only {@code num_labels} is given. */
  private static List<String> labels(Path file, JsonNode config) throws IOException {
    JsonNode named = config.path("id2label");
    if (named.isObject() && !named.isEmpty()) {
      Map<Integer, String> byId = new TreeMap<>();
      for (Map.Entry<String, JsonNode> e : named.properties()) {
        try {
          byId.put(Integer.parseInt(e.getKey().trim()), e.getValue().asText());
        } catch (NumberFormatException ex) {
          throw new IOException(
              "model config " + file + ": id2label key '" + e.getKey() + "' is not a label id");
        }
      }
      List<String> labels = new ArrayList<>(byId.values());
      if (!byId.keySet().equals(new java.util.TreeSet<>(range(labels.size())))) {
        throw new IOException(
            "model config "
                + file
                + ": id2label ids "
                + byId.keySet()
                + ", expected 0.."
                + (labels.size() - 1));
      }
      return labels;
    }
    int count = config.path("num_labels").asInt(2);
    if (count < 1) {
      throw new IOException("model config " + file + ": num_labels " + count + ", expected >= 1");
    }
    List<String> labels = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      labels.add("LABEL_" + i);
    }
    return labels;
  }

  private static List<Integer> range(int n) {
    List<Integer> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(i);
    }
    return out;
  }
}

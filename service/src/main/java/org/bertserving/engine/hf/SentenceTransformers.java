package org.bertserving.engine.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.bertserving.engine.ModelDefaults;
import org.bertserving.engine.PoolingStrategy;

/**
 * A sentence-transformers folder's own description of how it embeds: {@code modules.json} (a
 * Transformer, a Pooling, perhaps a Normalize), the pooling's {@code config.json} and {@code
 * sentence_bert_config.json} ({@code max_seq_length}). Modules the engine cannot run (a Dense
 * projection, say) and pooling modes it has no strategy for are refused naming the field.
 */
public final class SentenceTransformers {
  public static final String MODULES = "modules.json";

  private static final String MODULE = "sentence_transformers.models.";

  /** sentence-transformers' pooling modes and the strategies that compute the same. */
  private static final Map<String, PoolingStrategy> MODES =
      Map.of(
          "cls_token", PoolingStrategy.FIRST_TOKEN,
          "mean_tokens", PoolingStrategy.REDUCE_MEAN,
          "max_tokens", PoolingStrategy.REDUCE_MAX,
          "lasttoken", PoolingStrategy.LAST_TOKEN);

  private SentenceTransformers() {}

  public static ModelDefaults read(Path dir) throws IOException {
    Path modulesFile = dir.resolve(MODULES);
    JsonNode modules = json(modulesFile);
    PoolingStrategy pooling = null;
    boolean normalize = false;
    for (JsonNode module : modules) {
      String type = module.path("type").asText("");
      switch (type.replace(MODULE, "")) {
        case "Transformer" -> {}
        case "Normalize" -> normalize = true;
        case "Pooling" ->
            pooling = pooling(dir.resolve(module.path("path").asText("")).resolve("config.json"));
        default ->
            throw new IOException(
                modulesFile
                    + ": module '"
                    + module.path("path").asText()
                    + "' is "
                    + type
                    + ", expected "
                    + MODULE
                    + "Transformer, Pooling or Normalize");
      }
    }
    if (pooling == null) {
      throw new IOException(modulesFile + ": no " + MODULE + "Pooling module");
    }
    return ModelDefaults.sentenceTransformers(maxSeqLength(dir), pooling, normalize);
  }

  private static PoolingStrategy pooling(Path file) throws IOException {
    JsonNode config = json(file);
    Set<String> modes = new LinkedHashSet<>();
    if (config.has("pooling_mode") && config.get("pooling_mode").isTextual()) {
      String named = config.get("pooling_mode").asText();
      modes.add(
          Map.of("mean", "mean_tokens", "max", "max_tokens", "cls", "cls_token")
              .getOrDefault(named, named));
    }
    config
        .properties()
        .forEach(
            e -> {
              if (e.getKey().startsWith("pooling_mode_") && e.getValue().asBoolean(false)) {
                modes.add(e.getKey().substring("pooling_mode_".length()));
              }
            });
    String mode = modes.size() == 1 ? modes.iterator().next() : "";
    if (!MODES.containsKey(mode)) {
      throw new IOException(
          file + ": pooling modes " + modes + ", expected exactly one of " + MODES.keySet());
    }
    if (!config.path("include_prompt").asBoolean(true)) {
      throw new IOException(
          file
              + ": include_prompt is false, expected true (pooling over the "
              + "prompt's tokens too)");
    }
    return MODES.get(mode);
  }

  /** {@code max_seq_length}, else the model's positions, else BERT's 512. */
  private static int maxSeqLength(Path dir) throws IOException {
    Path file = dir.resolve("sentence_bert_config.json");
    if (Files.isRegularFile(file)) {
      JsonNode length = json(file).path("max_seq_length");
      if (length.canConvertToInt()) {
        return length.asInt();
      }
    }
    Path config = dir.resolve("config.json");
    if (Files.isRegularFile(config)) {
      return json(config).path("max_position_embeddings").asInt(512);
    }
    return 512;
  }

  private static JsonNode json(Path file) throws IOException {
    try {
      return new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}

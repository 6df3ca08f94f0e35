package org.bertserving.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The prompts of the served model by name, as sentence-transformers keeps them ({@code
 * config_sentence_transformers.json}'s {@code prompts}): what text-embeddings-inference's {@code
 * prompt_name} selects. A named model brings its own ({@link NamedModel#prompts()}); a folder its
 * file, when it has one.
 */
public final class Prompts {
  static final String FILE = "config_sentence_transformers.json";

  private final Map<String, String> byName;
  private final String configured;

  private Prompts(Map<String, String> byName, String configured) {
    this.byName = byName;
    this.configured = configured;
  }

  /** The prompts of the model {@code settings} name, and its {@code -prompt}. */
  public static Prompts of(EngineSettings settings) {
    Map<String, String> named = new TreeMap<>();
    if (settings.model() != null) {
      named.putAll(NamedModel.of(settings.model()).prompts());
    } else if (settings.modelDir() != null
        && Files.isRegularFile(settings.modelDir().resolve(FILE))) {
      Path file = settings.modelDir().resolve(FILE);
      try {
        JsonNode prompts = new ObjectMapper().readTree(file.toFile()).path("prompts");
        prompts
            .properties()
            .forEach(
                e -> {
                  if (e.getValue().isTextual()) {
                    named.put(e.getKey(), e.getValue().textValue());
                  }
                });
      } catch (IOException e) {
        throw new ModelLoadException("cannot read " + file + ": " + e.getMessage());
      }
    }
    return new Prompts(Map.copyOf(named), settings.prompt());
  }

  /**
   * The prefix of a call: its named prompt, else its own prompt, else the configured one.
   *
   * @throws InvalidInputException for a name the model has no prompt for, listing those it has
   */
  public String prefix(CallOptions options) {
    if (options.promptName() != null) {
      String prompt = byName.get(options.promptName());
      if (prompt == null) {
        throw new InvalidInputException(
            -1,
            byName.isEmpty()
                ? "prompt_name '" + options.promptName() + "': this model has no named prompts"
                : "prompt_name '"
                    + options.promptName()
                    + "' is not one of this model's prompts "
                    + new TreeMap<>(byName).keySet());
      }
      return prompt;
    }
    return options.prompt() != null ? options.prompt() : configured;
  }

  public Map<String, String> byName() {
    return byName;
  }
}

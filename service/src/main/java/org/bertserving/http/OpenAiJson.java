package org.bertserving.http;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * OpenAI's bodies as records, in OpenAI's field order ({@link OpenAiRoutes}). The SDK does not call
 * these routes (its records are in {@code org.bertserving.client.http}); OpenAI's clients do.
 */
final class OpenAiJson {
  private OpenAiJson() {}

  /**
   * {@code POST /v1/embeddings}; {@code input} stays a tree for {@link Inputs}' errors, {@code
   * user} and the rest are ignored.
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record EmbeddingsBody(
      @JsonProperty("input") JsonNode input,
      @JsonProperty("encoding_format") String encodingFormat,
      @JsonProperty("dimensions") Integer dimensions,
      @JsonProperty("model") String model) {}

  /** The answer of {@code /v1/embeddings}. */
  @JsonPropertyOrder({"object", "data", "model", "usage"})
  record Embeddings(
      @JsonProperty("data") List<Embedding> data,
      @JsonProperty("model") String model,
      @JsonProperty("usage") Usage usage) {
    @JsonProperty("object")
    String object() {
      return "list";
    }
  }

  /**
   * @param embedding {@code float[]}, or a {@code String} of base64 little-endian float32
   */
  @JsonPropertyOrder({"object", "index", "embedding"})
  record Embedding(@JsonProperty("index") int index, @JsonProperty("embedding") Object embedding) {
    @JsonProperty("object")
    String object() {
      return "embedding";
    }
  }

  @JsonPropertyOrder({"prompt_tokens", "total_tokens"})
  record Usage(
      @JsonProperty("prompt_tokens") long promptTokens,
      @JsonProperty("total_tokens") long totalTokens) {}

  /** The answer of {@code GET /v1/models}. */
  @JsonPropertyOrder({"object", "data"})
  record Models(@JsonProperty("data") List<Model> data) {
    @JsonProperty("object")
    String object() {
      return "list";
    }
  }

  /** A served model; {@code kind} (embedding, rerank, classify) is ours, beyond OpenAI's fields. */
  @JsonPropertyOrder({"id", "object", "created", "owned_by", "kind"})
  record Model(
      @JsonProperty("id") String id,
      @JsonProperty("created") long created,
      @JsonProperty("owned_by") String ownedBy,
      @JsonProperty("kind") String kind) {
    @JsonProperty("object")
    String object() {
      return "model";
    }
  }
}

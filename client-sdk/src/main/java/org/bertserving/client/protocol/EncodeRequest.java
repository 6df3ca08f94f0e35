package org.bertserving.client.protocol;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * A request to encode texts, with the field names of bert-as-service's HTTP API. The texts stay a
 * JSON tree until the frontend has validated them, so that a bad element can be reported with its
 * index and type, whichever transport brought it.
 *
 * @param id echoed in the reply; any JSON value, may be {@code null}
 * @param texts an array of strings ({@code "a ||| b"} for a sentence pair), or of token arrays when
 *     {@code isTokenized}
 * @param isTokenized the texts are already tokenized
 * @param showTokens return the tokens the model saw with the vectors
 * @param prompt prefixed to every text before tokenization (E5's {@code "query: "}); {@code null}:
 *     the server's {@code -prompt}
 * @param normalize L2-normalize the vectors; {@code null}: as the server's {@code -normalize}
 * @param dimensions keep the first N components of each vector (Matryoshka), renormalized when
 *     normalizing; {@code null}: all
 * @param promptName one of the model's named prompts (text-embeddings-inference's {@code
 *     prompt_name}, e.g. {@code "query"}) in place of {@code prompt}; {@code null}: none
 * @param truncate {@code false}: a text longer than the server's {@code max_seq_len} is refused;
 *     {@code null} or {@code true}: it is cut
 * @param truncationDirection {@code "Right"} (cut the end, the default) or {@code "Left"}
 * @param model the name of the model to encode with (a cluster may serve several); {@code null}:
 *     the cluster's default model
 */
public record EncodeRequest(
    @JsonProperty("id") JsonNode id,
    @JsonProperty("texts") JsonNode texts,
    @JsonProperty("is_tokenized") boolean isTokenized,
    @JsonProperty("show_tokens") boolean showTokens,
    @JsonProperty("prompt") String prompt,
    @JsonProperty("normalize") Boolean normalize,
    @JsonProperty("dimensions") Integer dimensions,
    @JsonProperty("prompt_name") String promptName,
    @JsonProperty("truncate") Boolean truncate,
    @JsonProperty("truncation_direction") String truncationDirection,
    @JsonProperty("model") String model)
    implements WireMessage {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A request with the server's prompt, normalization and full width. */
  public EncodeRequest(JsonNode id, JsonNode texts, boolean isTokenized, boolean showTokens) {
    this(id, texts, isTokenized, showTokens, null, null, null);
  }

  /** A request with its own prompt, normalization and dimensions, and the server's truncation. */
  public EncodeRequest(
      JsonNode id,
      JsonNode texts,
      boolean isTokenized,
      boolean showTokens,
      String prompt,
      Boolean normalize,
      Integer dimensions) {
    this(id, texts, isTokenized, showTokens, prompt, normalize, dimensions, null, null, null, null);
  }

  /** A request with every option but the model: the cluster's default model. */
  public EncodeRequest(
      JsonNode id,
      JsonNode texts,
      boolean isTokenized,
      boolean showTokens,
      String prompt,
      Boolean normalize,
      Integer dimensions,
      String promptName,
      Boolean truncate,
      String truncationDirection) {
    this(
        id,
        texts,
        isTokenized,
        showTokens,
        prompt,
        normalize,
        dimensions,
        promptName,
        truncate,
        truncationDirection,
        null);
  }

  /** A request for plain texts, or token lists when {@code isTokenized}. */
  public static EncodeRequest of(
      Object id, List<?> texts, boolean isTokenized, boolean showTokens) {
    return new EncodeRequest(
        JSON.valueToTree(id), JSON.valueToTree(texts), isTokenized, showTokens);
  }

  /** The same request with a prompt, normalization and dimensions of its own. */
  public EncodeRequest with(String prompt, Boolean normalize, Integer dimensions) {
    return new EncodeRequest(
        id,
        texts,
        isTokenized,
        showTokens,
        prompt,
        normalize,
        dimensions,
        promptName,
        truncate,
        truncationDirection,
        model);
  }

  /** The same request with a named prompt and text-embeddings-inference's truncation. */
  public EncodeRequest withTruncation(
      String promptName, Boolean truncate, String truncationDirection) {
    return new EncodeRequest(
        id,
        texts,
        isTokenized,
        showTokens,
        prompt,
        normalize,
        dimensions,
        promptName,
        truncate,
        truncationDirection,
        model);
  }

  /** The same request for the model named {@code model} ({@code null}: the default model). */
  public EncodeRequest withModel(String model) {
    return new EncodeRequest(
        id,
        texts,
        isTokenized,
        showTokens,
        prompt,
        normalize,
        dimensions,
        promptName,
        truncate,
        truncationDirection,
        model);
  }

  /**
   * The texts as plain Java values: strings, lists of strings, and anything else as the nearest
   * Java type (so that validation can say what it got); {@code null} when {@code texts} is not an
   * array.
   */
  @JsonIgnore
  public List<Object> inputs() {
    if (texts == null || !texts.isArray()) {
      return null;
    }
    List<Object> out = new ArrayList<>(texts.size());
    texts.forEach(node -> out.add(plain(node)));
    return out;
  }

  private static Object plain(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return node.asText();
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>(node.size());
      node.forEach(element -> list.add(plain(element)));
      return list;
    }
    return JSON.convertValue(node, Object.class);
  }
}

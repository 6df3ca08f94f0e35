package org.bertserving.client.http;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import org.bertserving.client.protocol.EncodeRequest;

/**
 * The body of {@code POST /encode}, bert-as-service's request with this server's options.
 *
 * @param id echoed in the answer; any JSON value; {@code null}: not sent
 * @param texts an array of strings ({@code "a ||| b"} for a sentence pair), or of token arrays when
 *     {@code isTokenized}; a tree, so that the server can name a bad element by its index
 * @param isTokenized the texts are already tokenized
 * @param showTokens return the tokens the model saw with the vectors
 * @param prompt prefixed to each text before tokenization; {@code null}: the server's
 * @param normalize L2-normalize the vectors; {@code null}: as the server does
 * @param dimensions keep the first N components of each vector; {@code null}: all
 * @param model the model to encode with; {@code null}: the cluster's default model
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({
  "id",
  "texts",
  "is_tokenized",
  "show_tokens",
  "prompt",
  "normalize",
  "dimensions",
  "model"
})
public record EncodeBody(
    @JsonProperty("id") @JsonInclude(JsonInclude.Include.NON_NULL) JsonNode id,
    @JsonProperty("texts") JsonNode texts,
    @JsonProperty("is_tokenized") boolean isTokenized,
    @JsonProperty("show_tokens") boolean showTokens,
    @JsonProperty("prompt") @JsonInclude(JsonInclude.Include.NON_NULL) String prompt,
    @JsonProperty("normalize") @JsonInclude(JsonInclude.Include.NON_NULL) Boolean normalize,
    @JsonProperty("dimensions") @JsonInclude(JsonInclude.Include.NON_NULL) Integer dimensions,
    @JsonProperty("model") @JsonInclude(JsonInclude.Include.NON_NULL) String model) {

  /** The request the frontend takes (and a cluster client sends) for this body. */
  public EncodeRequest request() {
    return new EncodeRequest(id, texts, isTokenized, showTokens, prompt, normalize, dimensions)
        .withModel(model);
  }
}

package org.bertserving.client.protocol;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * A request to encode texts, with the field names of bert-as-service's HTTP API. The texts stay
 * a JSON tree until the frontend has validated them, so that a bad element can be reported with
 * its index and type, whichever transport brought it.
 *
 * @param id echoed in the reply; any JSON value, may be {@code null}
 * @param texts an array of strings ({@code "a ||| b"} for a sentence pair), or of token arrays when
 *     {@code isTokenized}
 * @param isTokenized the texts are already tokenized
 * @param showTokens return the tokens the model saw with the vectors
 */
public record EncodeRequest(
    @JsonProperty("id") JsonNode id,
    @JsonProperty("texts") JsonNode texts,
    @JsonProperty("is_tokenized") boolean isTokenized,
    @JsonProperty("show_tokens") boolean showTokens)
    implements WireMessage {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A request for plain texts, or token lists when {@code isTokenized}. */
  public static EncodeRequest of(Object id, List<?> texts, boolean isTokenized, boolean showTokens) {
    return new EncodeRequest(JSON.valueToTree(id), JSON.valueToTree(texts), isTokenized, showTokens);
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

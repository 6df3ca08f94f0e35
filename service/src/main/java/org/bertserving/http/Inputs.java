package org.bertserving.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.bertserving.engine.Featurizer;

/**
 * The texts of an OpenAI or text-embeddings-inference body: a string or a list of strings, each
 * problem a 400 naming the field and, in JSON's words, what was there instead. Token ids get an
 * answer of their own: LangChain's Python {@code OpenAIEmbeddings} sends them by default
 * (tiktoken's ids, meaningless to a BERT vocabulary), and its users need to know which switch makes
 * it send text.
 */
final class Inputs {
  static final String TOKEN_IDS =
      "'input' holds token ids (lists of integers such as "
          + "[[15339, 1917]]); this server tokenizes texts itself, with its own model's vocabulary, so "
          + "send the texts as strings. LangChain's OpenAIEmbeddings (Python) sends token ids unless it "
          + "is created with check_embedding_ctx_length=False.";

  private Inputs() {}

  /**
   * {@code texts} as a request's texts on these APIs: each string as written, {@code "a ||| b"}
   * too, which only bert-as-service's {@code /encode} reads as a sentence pair ({@link
   * Featurizer#literal}); anything else (a pair already as an object) as it is.
   */
  static JsonNode literal(List<?> texts) {
    if (texts == null) {
      return Json.MAPPER.valueToTree(null);
    }
    List<Object> out = new ArrayList<>(texts.size());
    for (Object text : texts) {
      out.add(text instanceof String s ? Featurizer.literal(s) : text);
    }
    return Json.MAPPER.valueToTree(out);
  }

  /**
   * The texts of {@code field}, or {@code null} when it is absent.
   *
   * @throws Fields.BadField for anything but a string or a list of strings
   */
  static List<String> texts(JsonNode body, String field) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return List.of(node.textValue());
    }
    if (!node.isArray()) {
      throw new Fields.BadField(
          field, "'" + field + "' must be a string or a list of strings, not " + kind(node));
    }
    if (isTokenIds(node)) {
      throw new Fields.BadField(
          field,
          field.equals("input") ? TOKEN_IDS : TOKEN_IDS.replace("'input'", "'" + field + "'"));
    }
    List<String> texts = new ArrayList<>(node.size());
    for (int i = 0; i < node.size(); i++) {
      JsonNode element = node.get(i);
      if (!element.isTextual()) {
        throw new Fields.BadField(
            field, "'" + field + "'[" + i + "] must be a string, not " + kind(element));
      }
      texts.add(element.textValue());
    }
    return texts;
  }

  /** {@code [1, 2]} or {@code [[1, 2], [3]]}. */
  private static boolean isTokenIds(JsonNode array) {
    if (array.isEmpty()) {
      return false;
    }
    for (JsonNode element : array) {
      boolean ids =
          element.isIntegralNumber()
              || (element.isArray() && !element.isEmpty() && allIntegers(element));
      if (!ids) {
        return false;
      }
    }
    return true;
  }

  private static boolean allIntegers(JsonNode array) {
    for (JsonNode element : array) {
      if (!element.isIntegralNumber()) {
        return false;
      }
    }
    return true;
  }

  /** What a JSON value is, as a person who wrote it would say. */
  static String kind(JsonNode node) {
    if (node == null || node.isNull()) {
      return "null";
    }
    if (node.isNumber()) {
      return "a number";
    }
    if (node.isBoolean()) {
      return "a boolean";
    }
    if (node.isArray()) {
      return "a list";
    }
    return node.isObject() ? "an object" : "a string";
  }
}

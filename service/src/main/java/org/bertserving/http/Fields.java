package org.bertserving.http;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import java.lang.reflect.RecordComponent;

/**
 * Optional fields of a JSON body, typed: a field of the wrong type is a 400 naming the field and
 * what it should be, never silently its default ({@code "show_tokens": "yes"} is not false).
 */
final class Fields {
  /** A field of the wrong type. */
  static final class BadField extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String field;

    BadField(String field, String expected, JsonNode got) {
      this(field, "'" + field + "' must be " + expected + ", not " + got);
    }

    BadField(String field, String message) {
      super(message);
      this.field = field;
    }

    /** The field at fault. */
    String field() {
      return field;
    }
  }

  /**
   * Reads request records as {@link #optionalBoolean} and the others read fields: no coercion of a
   * string, number or boolean into another type, no float cut into an integer.
   */
  private static final ObjectMapper STRICT =
      JsonMapper.builder()
          .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
          .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
          .withCoercionConfig(
              LogicalType.Textual,
              text -> {
                text.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
                text.setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
                text.setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
              })
          .build();

  private Fields() {}

  /**
   * The body as the request record {@code type} (the SDK's {@code EncodeBody}, {@link
   * OpenAiJson.EmbeddingsBody}), unknown fields ignored.
   *
   * @throws BadField for a field of the wrong type, worded as the typed readers below word it
   */
  static <T extends Record> T read(JsonNode body, Class<T> type) {
    try {
      return STRICT.treeToValue(body, type);
    } catch (JsonMappingException e) {
      String field = e.getPath().isEmpty() ? null : e.getPath().get(0).getFieldName();
      if (field == null) {
        throw new IllegalStateException("unreadable " + type.getSimpleName(), e);
      }
      throw new BadField(field, expected(type, field), body.get(field));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("unreadable " + type.getSimpleName(), e);
    }
  }

  /** What the record's component named {@code field} in JSON takes, in the readers' words. */
  private static String expected(Class<? extends Record> type, String field) {
    for (RecordComponent c : type.getRecordComponents()) {
      JsonProperty name = c.getAccessor().getAnnotation(JsonProperty.class);
      if (name == null) {
        name = c.getAnnotation(JsonProperty.class);
      }
      if (field.equals(name != null ? name.value() : c.getName())) {
        Class<?> t = c.getType();
        return t == boolean.class || t == Boolean.class
            ? "true or false"
            : t == int.class || t == Integer.class
                ? "an integer"
                : t == String.class ? "a string" : "a " + t.getSimpleName();
      }
    }
    return "of another type";
  }

  /**
   * {@code body} with its {@code field} of 0 or 1 read as false or true: bert-as-service's HTTP
   * server took {@code bool(data['is_tokenized'])}, so clients written for it may send either.
   * Other numbers and strings stay wrong ({@code bool("false")} is Python's true).
   */
  static JsonNode pythonFlag(JsonNode body, String field) {
    JsonNode node = body.get(field);
    // canConvertToInt: a number past a long's range would otherwise be cut to its low bits
    if (node == null
        || !node.isIntegralNumber()
        || !node.canConvertToInt()
        || !(node.intValue() == 0 || node.intValue() == 1)
        || !(body instanceof ObjectNode object)) {
      return body;
    }
    ObjectNode copy = object.deepCopy();
    copy.put(field, node.intValue() == 1);
    return copy;
  }

  static boolean flag(JsonNode body, String field, boolean absent) {
    Boolean value = optionalBoolean(body, field);
    return value == null ? absent : value;
  }

  static Boolean optionalBoolean(JsonNode body, String field) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isBoolean()) {
      throw new BadField(field, "true or false", node);
    }
    return node.booleanValue();
  }

  static Integer optionalInt(JsonNode body, String field) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isIntegralNumber() || !node.canConvertToInt()) {
      throw new BadField(field, "an integer", node);
    }
    return node.intValue();
  }

  static String optionalString(JsonNode body, String field) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual()) {
      throw new BadField(field, "a string", node);
    }
    return node.textValue();
  }
}

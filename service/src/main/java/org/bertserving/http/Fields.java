package org.bertserving.http;

import com.fasterxml.jackson.databind.JsonNode;

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

  private Fields() {}

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

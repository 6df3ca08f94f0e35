package org.bertserving.client;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The answer of {@code /encode} read as it streams, straight into float arrays: no tree with a node
 * for each number (768 of them a vector) to walk again.
 */
final class ReplyReader {
  private static final TypeReference<List<List<String>>> TOKENS = new TypeReference<>() {};

  private ReplyReader() {}

  /** {@code result} (vectors, or each input's token vectors) and {@code tokens} when sent. */
  static EncodeResult read(ObjectMapper json, byte[] body) throws IOException {
    try (JsonParser p = json.getFactory().createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("the answer is not a JSON object");
      }
      Object result = null;
      List<List<String>> tokens = null;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (field.equals("result") && value == JsonToken.START_ARRAY) {
          result = nested(p);
        } else if (field.equals("tokens") && value == JsonToken.START_ARRAY) {
          tokens = json.readValue(p, TOKENS);
        } else {
          p.skipChildren();
        }
      }
      if (result == null) {
        throw new IOException("the answer has no 'result' list");
      }
      return result(result, tokens);
    }
  }

  private static EncodeResult result(Object result, List<List<String>> tokens) throws IOException {
    if (result instanceof float[] numbers) {
      if (numbers.length > 0) {
        throw new IOException("'result' is a list of numbers, not of vectors");
      }
      return new EncodeResult(new float[0][], null, tokens);
    }
    List<?> rows = (List<?>) result;
    // pooled: a list of vectors; token level: a list of lists of vectors (an empty row is either)
    if (rows.stream().noneMatch(row -> row instanceof List<?>)) {
      return new EncodeResult(matrix(rows), null, tokens);
    }
    float[][][] out = new float[rows.size()][][];
    for (int i = 0; i < out.length; i++) {
      Object row = rows.get(i);
      if (row instanceof float[] empty && empty.length == 0) {
        out[i] = new float[0][];
      } else if (row instanceof List<?> vectors) {
        out[i] = matrix(vectors);
      } else {
        throw new IOException("'result' mixes vectors and lists of vectors");
      }
    }
    return new EncodeResult(null, out, tokens);
  }

  private static float[][] matrix(List<?> rows) throws IOException {
    float[][] out = new float[rows.size()][];
    for (int i = 0; i < out.length; i++) {
      if (!(rows.get(i) instanceof float[] row)) {
        throw new IOException("'result' mixes vectors and lists of vectors");
      }
      out[i] = row;
    }
    return out;
  }

  /**
   * The array the parser is at: a {@code float[]} when it holds numbers (or nothing), else a list
   * of what its arrays hold.
   */
  private static Object nested(JsonParser p) throws IOException {
    JsonToken first = p.nextToken();
    if (first == JsonToken.START_ARRAY) {
      List<Object> items = new ArrayList<>();
      for (JsonToken t = first; t != JsonToken.END_ARRAY; t = p.nextToken()) {
        if (t != JsonToken.START_ARRAY) {
          throw new IOException("'result' mixes numbers and lists");
        }
        items.add(nested(p));
      }
      return items;
    }
    float[] numbers = new float[16];
    int n = 0;
    for (JsonToken t = first; t != JsonToken.END_ARRAY; t = p.nextToken()) {
      if (!t.isNumeric()) {
        throw new IOException("'result' holds " + t + " where a number belongs");
      }
      if (n == numbers.length) {
        numbers = Arrays.copyOf(numbers, n * 2);
      }
      numbers[n++] = p.getFloatValue();
    }
    return n == numbers.length ? numbers : Arrays.copyOf(numbers, n);
  }
}

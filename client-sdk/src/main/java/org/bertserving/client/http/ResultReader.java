package org.bertserving.client.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@link EncodeAnswer#result()} read as it streams, straight into float arrays: a {@code float[][]}
 * of vectors or a {@code float[][][]} of each input's token vectors. An empty row does not hide the
 * shape: {@code [[], [[1, 2]]]} is token level.
 */
final class ResultReader extends JsonDeserializer<Object> {

  @Override
  public Object deserialize(JsonParser p, DeserializationContext context) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw failure(p, "'result' is " + p.currentToken() + ", not a list");
    }
    Object nested = nested(p);
    if (nested instanceof float[] numbers) {
      if (numbers.length > 0) {
        throw failure(p, "'result' is a list of numbers, not of vectors");
      }
      return new float[0][];
    }
    List<?> rows = (List<?>) nested;
    // pooled: a list of vectors; token level: a list of lists of vectors (an empty row is either)
    if (rows.stream().noneMatch(row -> row instanceof List<?>)) {
      return matrix(p, rows);
    }
    float[][][] out = new float[rows.size()][][];
    for (int i = 0; i < out.length; i++) {
      Object row = rows.get(i);
      if (row instanceof float[] empty && empty.length == 0) {
        out[i] = new float[0][];
      } else if (row instanceof List<?> vectors) {
        out[i] = matrix(p, vectors);
      } else {
        throw failure(p, "'result' mixes vectors and lists of vectors");
      }
    }
    return out;
  }

  private static float[][] matrix(JsonParser p, List<?> rows) throws IOException {
    float[][] out = new float[rows.size()][];
    for (int i = 0; i < out.length; i++) {
      if (!(rows.get(i) instanceof float[] row)) {
        throw failure(p, "'result' mixes vectors and lists of vectors");
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
          throw failure(p, "'result' mixes numbers and lists");
        }
        items.add(nested(p));
      }
      return items;
    }
    float[] numbers = new float[16];
    int n = 0;
    for (JsonToken t = first; t != JsonToken.END_ARRAY; t = p.nextToken()) {
      if (t == null || !t.isNumeric()) {
        throw failure(p, "'result' holds " + t + " where a number belongs");
      }
      if (n == numbers.length) {
        numbers = Arrays.copyOf(numbers, n * 2);
      }
      numbers[n++] = p.getFloatValue();
    }
    return n == numbers.length ? numbers : Arrays.copyOf(numbers, n);
  }

  private static JsonMappingException failure(JsonParser p, String message) {
    return JsonMappingException.from(p, message);
  }
}

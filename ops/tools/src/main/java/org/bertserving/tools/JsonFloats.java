package org.bertserving.tools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * bert-as-service's answer {@code {"id": .., "result": [[f, ...], ...], ...}} read by hand: a
 * general JSON parser's float parsing cost this JVM (the load generator) about as much CPU a row as
 * the frontend it measures, on the same cores. Numbers become the nearest double, then float:
 * within an ulp of the float the server wrote, which is what {@link Corpus#matches} allows.
 */
final class JsonFloats {
  private static final byte[] RESULT = "\"result\"".getBytes(StandardCharsets.US_ASCII);
  private static final double[] POW10 = new double[23];

  static {
    POW10[0] = 1;
    for (int i = 1; i < POW10.length; i++) {
      POW10[i] = POW10[i - 1] * 10; // exact up to 10^22
    }
  }

  private final byte[] b;
  private int i;

  private JsonFloats(byte[] b, int i) {
    this.b = b;
    this.i = i;
  }

  /**
   * The rows of {@code "result"}, each {@code dim} floats (another length: an empty row, which no
   * check accepts); {@code null} when the body has no {@code "result"}.
   */
  static float[][] result(byte[] body, int dim) throws IOException {
    int at = indexOf(body, RESULT);
    if (at < 0) {
      return null;
    }
    JsonFloats p = new JsonFloats(body, at + RESULT.length);
    p.expect(':');
    p.expect('[');
    List<float[]> rows = new ArrayList<>();
    while (p.peek() != ']') {
      p.expect('[');
      float[] row = new float[dim];
      int n = 0;
      while (p.peek() != ']') {
        float x = p.number();
        if (n < dim) {
          row[n] = x;
        }
        n++;
        if (p.peek() == ',') {
          p.i++;
        }
      }
      p.i++;
      rows.add(n == dim ? row : new float[0]);
      if (p.peek() == ',') {
        p.i++;
      }
    }
    return rows.toArray(new float[0][]);
  }

  private byte peek() throws IOException {
    while (i < b.length && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) {
      i++;
    }
    if (i >= b.length) {
      throw new IOException("JSON ends inside \"result\"");
    }
    return b[i];
  }

  private void expect(char c) throws IOException {
    if (peek() != c) {
      throw new IOException("expected '" + c + "' at byte " + i + " of the JSON answer");
    }
    i++;
  }

  /** A JSON number: sign, digits, fraction, exponent. */
  private float number() throws IOException {
    boolean negative = b[i] == '-';
    if (negative) {
      i++;
    }
    long mantissa = 0;
    int exponent = 0;
    int digits = 0;
    boolean fraction = false;
    int start = i;
    for (; i < b.length; i++) {
      byte c = b[i];
      if (c >= '0' && c <= '9') {
        if (digits < 18) {
          mantissa = mantissa * 10 + (c - '0');
          digits += mantissa > 0 ? 1 : 0;
          exponent -= fraction ? 1 : 0;
        } else if (!fraction) {
          exponent++; // digits beyond what a long holds: only their magnitude counts
        }
      } else if (c == '.') {
        fraction = true;
      } else {
        break;
      }
    }
    if (i == start) {
      throw new IOException("not a number at byte " + i + " of the JSON answer");
    }
    if (i < b.length && (b[i] == 'e' || b[i] == 'E')) {
      i++;
      boolean minus = b[i] == '-';
      if (b[i] == '-' || b[i] == '+') {
        i++;
      }
      int e = 0;
      for (; i < b.length && b[i] >= '0' && b[i] <= '9'; i++) {
        e = e * 10 + (b[i] - '0');
      }
      exponent += minus ? -e : e;
    }
    double value;
    if (exponent >= 0 && exponent < POW10.length) {
      value = mantissa * POW10[exponent];
    } else if (exponent < 0 && -exponent < POW10.length) {
      value = mantissa / POW10[-exponent]; // both exact: one correctly rounded division
    } else {
      value = mantissa * Math.pow(10, exponent);
    }
    return (float) (negative ? -value : value);
  }

  private static int indexOf(byte[] body, byte[] key) {
    outer:
    for (int at = 0; at <= body.length - key.length; at++) {
      for (int k = 0; k < key.length; k++) {
        if (body[at + k] != key[k]) {
          continue outer;
        }
      }
      return at;
    }
    return -1;
  }
}

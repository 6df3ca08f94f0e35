package org.bertserving.tools;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The routes and formats the cluster benchmark sends: a request body for texts, and the vectors
 * read back from whatever the server answered, by its {@code Content-Type} ({@code /encode} asked
 * for {@code application/x-npy} may still answer JSON on a server without it: {@link #format} says
 * which came back).
 */
enum BenchRoute {
  ENCODE_JSON("/encode JSON floats", "/encode", ""),
  ENCODE_NPY("/encode Accept: x-npy", "/encode", "Accept: application/x-npy\r\n"),
  OPENAI_BASE64("/v1/embeddings base64", "/v1/embeddings", "");

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonFactory JSON = MAPPER.getFactory();
  private static final Pattern NPY_SHAPE = Pattern.compile("'shape':\\s*\\((\\d+),\\s*(\\d+),?\\)");

  final String label;
  final String path;
  final String headers;

  BenchRoute(String label, String path, String headers) {
    this.label = label;
    this.path = path;
    this.headers = headers;
  }

  /** The request body for {@code texts}. */
  byte[] body(long id, List<String> texts) {
    return body(id, texts, null);
  }

  /** The request body for {@code texts} naming {@code model} ({@code null}: none, the default). */
  byte[] body(long id, List<String> texts, String model) {
    try {
      Map<String, Object> body = new java.util.LinkedHashMap<>();
      if (model != null) {
        body.put("model", model);
      }
      if (this == OPENAI_BASE64) {
        body.put("input", texts);
        body.put("encoding_format", "base64");
      } else {
        body.put("id", id);
        body.put("texts", texts);
      }
      return MAPPER.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A short name for the format a response came in. */
  static String format(String contentType) {
    String type = contentType.toLowerCase(java.util.Locale.ROOT);
    return type.contains("npy") ? "npy" : type.contains("json") ? "JSON" : contentType;
  }

  /** The vectors of a 200 answer, in the order the server gave them; throws on a malformed one. */
  float[][] vectors(RawHttp.Response r, int dim) throws IOException {
    if (format(r.contentType()).equals("npy")) {
      return npy(r.body(), dim);
    }
    float[][] rows = JsonFloats.result(r.body(), dim);
    if (rows != null) {
      return rows;
    }
    try (JsonParser p = JSON.createParser(r.body())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("not a JSON object: " + preview(r.body()));
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.getCurrentName();
        p.nextToken();
        if (field.equals("result")) {
          return rows(p, dim);
        } else if (field.equals("data")) {
          return data(p, dim);
        }
        p.skipChildren();
      }
    }
    throw new IOException("no \"result\" nor \"data\" in " + preview(r.body()));
  }

  /** {@code [[f, f, ...], ...]}. */
  private static float[][] rows(JsonParser p, int dim) throws IOException {
    List<float[]> rows = new ArrayList<>();
    while (p.nextToken() == JsonToken.START_ARRAY) {
      rows.add(floats(p, dim));
    }
    return rows.toArray(new float[0][]);
  }

  /** One array of numbers; a wrong length gives a vector that no check accepts. */
  private static float[] floats(JsonParser p, int dim) throws IOException {
    float[] v = new float[dim];
    int n = 0;
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      float x = p.getFloatValue();
      if (n < dim) {
        v[n] = x;
      }
      n++;
    }
    return n == dim ? v : new float[0];
  }

  /** OpenAI's {@code data}: objects with {@code index} and {@code embedding} (base64 or floats). */
  private static float[][] data(JsonParser p, int dim) throws IOException {
    List<float[]> rows = new ArrayList<>();
    while (p.nextToken() == JsonToken.START_OBJECT) {
      int index = -1;
      float[] vector = null;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.getCurrentName();
        JsonToken t = p.nextToken();
        if (field.equals("index")) {
          index = p.getIntValue();
        } else if (field.equals("embedding")) {
          vector = t == JsonToken.START_ARRAY ? floats(p, dim) : base64(p.getText(), dim);
        } else {
          p.skipChildren();
        }
      }
      while (rows.size() <= Math.max(index, 0)) {
        rows.add(null);
      }
      rows.set(Math.max(index, 0), vector);
    }
    return rows.toArray(new float[0][]);
  }

  private static float[] base64(String text, int dim) {
    ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(text));
    float[] v = new float[bytes.remaining() / 4];
    bytes.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
    return v.length == dim ? v : new float[0];
  }

  /** NumPy {@code .npy} 1.0/2.0, little-endian float32, shape {@code (B, D)}. */
  private static float[][] npy(byte[] body, int dim) throws IOException {
    if (body.length < 12 || (body[0] & 0xff) != 0x93 || body[1] != 'N') {
      throw new IOException("not a .npy: " + preview(body));
    }
    ByteBuffer b = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
    int major = body[6];
    int headerLength = major == 1 ? b.getShort(8) & 0xffff : b.getInt(8);
    int start = (major == 1 ? 10 : 12) + headerLength;
    String header = new String(body, major == 1 ? 10 : 12, headerLength, StandardCharsets.US_ASCII);
    Matcher shape = NPY_SHAPE.matcher(header);
    if (!header.contains("'<f4'") || !shape.find()) {
      throw new IOException("a .npy of other than [B, D] little-endian float32: " + header);
    }
    int rows = Integer.parseInt(shape.group(1));
    int width = Integer.parseInt(shape.group(2));
    if (body.length - start != (long) rows * width * 4) {
      throw new IOException(".npy of " + header + " has " + (body.length - start) + " data bytes");
    }
    float[][] out = new float[rows][];
    b.position(start);
    java.nio.FloatBuffer floats = b.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    for (int r = 0; r < rows; r++) {
      out[r] = new float[width];
      floats.get(out[r]);
      if (width != dim) {
        out[r] = new float[0];
      }
    }
    return out;
  }

  private static String preview(byte[] body) {
    String s = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8);
    return body.length > 200 ? s + "..." : s;
  }
}

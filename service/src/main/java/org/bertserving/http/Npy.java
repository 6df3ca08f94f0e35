package org.bertserving.http;

import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.MediaTypes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.bertserving.client.protocol.EncodeReply;

/**
 * Vectors as a NumPy {@code .npy} file (format 1.0: little-endian float32, C order), for a client
 * that asks with {@code Accept: application/x-npy}: {@code np.load(io.BytesIO(body))} reads it
 * whole, and no float is written as text. Shape {@code [B, D]}, or {@code [B, T, D]} zero-padded
 * for token-level pooling, exactly as the JSON answer's {@code result}.
 */
final class Npy {
  static final String MEDIA = "application/x-npy";
  static final ContentType TYPE =
      MediaTypes.customBinary("application", "x-npy", false).toContentType();

  /** The header's length is padded so that the data starts at a multiple of this. */
  private static final int ALIGN = 64;

  private Npy() {}

  /**
   * Whether the request prefers {@code .npy}: the type named in its Accept header(s) with q > 0 and
   * ranked no lower than {@code application/json}.
   */
  static boolean wanted(HttpRequest request) {
    float npy = -1;
    float json = -1;
    for (HttpHeader header : request.getHeaders()) {
      if (!header.is("accept")) {
        continue;
      }
      for (String range : header.value().split(",")) {
        String[] parts = range.split(";");
        String type = parts[0].trim().toLowerCase(Locale.ROOT);
        float q = 1;
        for (int i = 1; i < parts.length; i++) {
          String param = parts[i].trim();
          if (param.startsWith("q=")) {
            try {
              q = Float.parseFloat(param.substring(2));
            } catch (NumberFormatException e) {
              q = 0; // an unreadable weight does not choose the binary form
            }
          }
        }
        if (type.equals(MEDIA)) {
          npy = Math.max(npy, q);
        } else if (type.equals("application/json")) {
          json = Math.max(json, q);
        }
      }
    }
    return npy > 0 && npy >= json;
  }

  static HttpResponse response(EncodeReply reply) {
    return HttpResponse.create().withEntity(HttpEntities.create(TYPE, bytes(reply)));
  }

  /** The whole file: magic, version, header, then the floats. */
  static byte[] bytes(EncodeReply reply) {
    List<float[]> rows = reply.rows();
    int dim = reply.dim();
    int t = reply.tokenLevel() ? reply.outputLength() : 1;
    String shape =
        reply.tokenLevel()
            ? "(" + rows.size() + ", " + t + ", " + dim + ")"
            : "(" + rows.size() + ", " + dim + ")";
    StringBuilder header =
        new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': ")
            .append(shape)
            .append(", }");
    int unpadded = 10 + header.length() + 1; // magic 6, version 2, length 2; the newline
    header.append(" ".repeat((ALIGN - unpadded % ALIGN) % ALIGN)).append('\n');
    byte[] head = header.toString().getBytes(StandardCharsets.US_ASCII);
    long floats = (long) rows.size() * t * dim;
    if (10L + head.length + floats * 4 > Integer.MAX_VALUE) {
      throw new IllegalStateException("an answer of " + floats + " floats is over 2 GiB");
    }
    ByteBuffer out =
        ByteBuffer.allocate(10 + head.length + (int) floats * 4).order(ByteOrder.LITTLE_ENDIAN);
    out.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII));
    out.put((byte) 1).put((byte) 0).putShort((short) head.length).put(head);
    FloatBuffer data = out.asFloatBuffer();
    for (float[] row : rows) {
      // a token-level row holds its own tokens only; the rest of its T positions stay zero
      data.put(row, 0, Math.min(row.length, t * dim));
      data.position(data.position() + t * dim - Math.min(row.length, t * dim));
    }
    return out.array();
  }
}

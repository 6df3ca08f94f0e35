package org.bertserving.zmq;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.cluster.ServedModel;

/**
 * bert-as-service 1.10's reply frames: a JSON header ({@code dtype}, {@code shape}, {@code tokens})
 * and the raw little-endian matrix in C order; errors as a header whose {@code dtype} carries the
 * message, so that the stock Python client raises it.
 */
final class ZmqFrames {
  /** What the stock Python client checks against its own version. */
  static final String PROTOCOL_VERSION = "1.10.0";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A header and its raw bytes ({@code null} for a status reply, which has none). */
  record Reply(byte[] header, byte[] raw) {}

  private ZmqFrames() {}

  /**
   * Vectors as float32 (float16 under {@code -fp16}, as the original), token-level as [B, T, D].
   * Rows that disagree with the reply's width, or a reply too large for one frame, fail here,
   * naming why: the header would describe other bytes than the frame carries.
   */
  static Reply vectors(EncodeReply reply, boolean fp16) {
    check(reply, fp16 ? 2 : 4);
    int rows = reply.rows().size();
    ObjectNode header = JSON.createObjectNode();
    header.put("dtype", fp16 ? "float16" : "float32");
    List<float[]> flat = new ArrayList<>();
    if (reply.tokenLevel()) {
      header.putArray("shape").add(rows).add(reply.outputLength()).add(reply.dim());
      for (float[][] matrix : reply.tokenMatrices()) {
        flat.addAll(Arrays.asList(matrix));
      }
    } else {
      header.putArray("shape").add(rows).add(reply.dim());
      flat.addAll(reply.rows());
    }
    int values = flat.stream().mapToInt(v -> v.length).sum();
    ByteBuffer raw = ByteBuffer.allocate(values * (fp16 ? 2 : 4)).order(ByteOrder.LITTLE_ENDIAN);
    for (float[] vector : flat) {
      for (float v : vector) {
        if (fp16) {
          raw.putShort(Half.fromFloat(v));
        } else {
          raw.putFloat(v);
        }
      }
    }
    header.set(
        "tokens",
        reply.tokens() == null
            ? JSON.getNodeFactory().textNode("")
            : JSON.valueToTree(reply.tokens()));
    return new Reply(json(header), raw.array());
  }

  private static void check(EncodeReply reply, int bytesPerValue) {
    int dim = reply.dim();
    long values = 0;
    for (int r = 0; r < reply.rows().size(); r++) {
      int length = reply.rows().get(r).length;
      if (dim <= 0 || (reply.tokenLevel() ? length % dim != 0 : length != dim)) {
        throw new IllegalStateException(
            "row " + r + " has " + length + " values, which does not fit the reply's width " + dim);
      }
      values += reply.tokenLevel() ? (long) reply.outputLength() * dim : length;
    }
    if (values * bytesPerValue > MAX_FRAME_BYTES) {
      throw new IllegalStateException(
          "the reply would take "
              + values * bytesPerValue
              + " bytes, over the 2 GiB one ZeroMQ frame holds: send fewer texts a request");
    }
  }

  /** The most one ZeroMQ frame (a Java array) holds. */
  private static final long MAX_FRAME_BYTES = Integer.MAX_VALUE - 8;

  /**
   * Why {@code rows} texts of model {@code m} would not fit a reply's one frame, at the width its
   * workers describe, or {@code null} (also while no worker of it is described).
   */
  static String tooLarge(int rows, ServedModel m) {
    if (m == null || m.dimension() <= 0) {
      return null;
    }
    long values = (long) rows * m.dimension();
    if ("NONE".equalsIgnoreCase(m.pooling())) {
      values *= m.maxSeqLen() > 0 ? m.maxSeqLen() : 1;
    }
    long bytes = values * ("float16".equals(m.dtype()) ? 2 : 4);
    return bytes > MAX_FRAME_BYTES
        ? rows
            + " texts would take "
            + bytes
            + " bytes of vectors, over the 2 GiB one ZeroMQ frame holds: send fewer texts a"
            + " request"
        : null;
  }

  static Reply error(int status, String description) {
    ObjectNode header = JSON.createObjectNode();
    header.put("dtype", "ERROR " + status + ": " + description);
    header.putArray("shape").add(0);
    header.put("status", status);
    header.put("error", description);
    header.put("tokens", "");
    return new Reply(json(header), new byte[0]);
  }

  /** The server's status as SHOW_CONFIG answers it: the protocol's version, ours beside it. */
  static byte[] status(JsonNode status, byte[] client) {
    ObjectNode body = status.deepCopy();
    body.put("server_version_jvm", body.path("server_version").asText());
    body.put("server_version", PROTOCOL_VERSION);
    body.put("client", new String(client, StandardCharsets.UTF_8));
    if (!body.path("max_seq_len").isNumber()) {
      // -max_seq_len NONE: the Python client reads a number or null (it calls int() on any other)
      body.putNull("max_seq_len");
    }
    return json(body);
  }

  private static byte[] json(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}

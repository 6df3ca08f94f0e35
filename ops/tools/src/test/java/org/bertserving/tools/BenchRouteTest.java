package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The cluster benchmark reads back exactly the floats a server wrote, in each format it may answer
 * (JSON floats as Jackson writes them, OpenAI's base64, NumPy's .npy): else its check would report
 * rows as misplaced that were not, or miss rows that were.
 */
class BenchRouteTest {
  private static final int DIM = 768;

  private static float[][] rows() {
    float[][] rows = new float[4][];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = SyntheticBackend.vector(i * 7919L, DIM);
    }
    // the forms Java writes beside plain decimals: exponents, zeros, -1
    rows[1][0] = 1.1920929E-7f;
    rows[1][1] = -0.0f;
    rows[1][2] = -1f;
    rows[1][3] = 3.0E-5f;
    return rows;
  }

  @Test
  void jsonFloatsAreReadBackExactly() throws Exception {
    float[][] rows = rows();
    byte[] json =
        new ObjectMapper().writeValueAsBytes(Map.of("id", 7, "result", rows, "status", 200));
    float[][] read =
        BenchRoute.ENCODE_JSON.vectors(new RawHttp.Response(200, "application/json", json), DIM);
    assertEquals(rows.length, read.length);
    for (int i = 0; i < rows.length; i++) {
      assertArrayEquals(rows[i], read[i], "row " + i);
    }
  }

  @Test
  void openAiBase64IsPlacedByItsIndex() throws Exception {
    float[][] rows = rows();
    List<Map<String, Object>> data = new ArrayList<>();
    for (int i = rows.length - 1; i >= 0; i--) { // out of order: the index places them
      ByteBuffer b = ByteBuffer.allocate(DIM * 4).order(ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(rows[i]);
      data.add(
          Map.of(
              "object",
              "embedding",
              "index",
              i,
              "embedding",
              Base64.getEncoder().encodeToString(b.array())));
    }
    byte[] json = new ObjectMapper().writeValueAsBytes(Map.of("object", "list", "data", data));
    float[][] read =
        BenchRoute.OPENAI_BASE64.vectors(new RawHttp.Response(200, "application/json", json), DIM);
    for (int i = 0; i < rows.length; i++) {
      assertArrayEquals(rows[i], read[i], "row " + i);
    }
  }

  @Test
  void npyIsReadByItsHeader() throws Exception {
    float[][] rows = rows();
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 768), }";
    int pad = 64 - (10 + dict.length() + 1) % 64;
    byte[] header = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.US_ASCII);
    ByteBuffer b =
        ByteBuffer.allocate(10 + header.length + rows.length * DIM * 4)
            .order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
    b.putShort((short) header.length).put(header);
    for (float[] row : rows) {
      for (float x : row) {
        b.putFloat(x);
      }
    }
    float[][] read =
        BenchRoute.ENCODE_NPY.vectors(
            new RawHttp.Response(200, "application/x-npy", b.array()), DIM);
    assertEquals("npy", BenchRoute.format("application/x-npy"));
    for (int i = 0; i < rows.length; i++) {
      assertArrayEquals(rows[i], read[i], "row " + i);
    }
  }
}

package org.bertserving.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The SDK's reader of {@code .npy} answers: files made here, by numpy when it is installed. */
class NpyTest {

  /** A .npy 1.0 file as the format says: header padded with spaces so the data starts at 64n. */
  static byte[] npy(String dict, float[] data, int extraBytes) {
    int unpadded = 10 + dict.length() + 1;
    String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
    ByteBuffer b =
        ByteBuffer.allocate(10 + header.length() + data.length * 4 + extraBytes)
            .order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    b.putShort((short) header.length());
    b.put(header.getBytes(StandardCharsets.ISO_8859_1));
    for (float f : data) {
      b.putFloat(f);
    }
    return b.array();
  }

  static String dict(String shape) {
    return "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }";
  }

  static float[] count(int n) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = i * 0.5f - 3;
    }
    return f;
  }

  @Test
  void pooledVectors() {
    byte[] file = npy(dict("2, 3"), count(6), 0);
    assertEquals(0, (file.length - 6 * 4) % 64, "the data starts at a multiple of 64");
    EncodeResult r = Npy.read(file);
    assertNull(r.tokenVectors());
    assertNull(r.tokens());
    assertArrayEquals(new float[] {-3, -2.5f, -2}, r.vectors()[0]);
    assertArrayEquals(new float[] {-1.5f, -1, -0.5f}, r.vectors()[1]);
  }

  @Test
  void tokenVectorsInCOrder() {
    EncodeResult r = Npy.read(npy(dict("2, 3, 4,"), count(24), 0));
    assertNull(r.vectors());
    assertEquals(2, r.tokenVectors().length);
    assertEquals(3, r.tokenVectors()[1].length);
    assertArrayEquals(new float[] {-3, -2.5f, -2, -1.5f}, r.tokenVectors()[0][0]);
    assertArrayEquals(new float[] {7, 7.5f, 8, 8.5f}, r.tokenVectors()[1][2]);
  }

  @Test
  void emptyAndSpecialValues() {
    assertEquals(0, Npy.read(npy(dict("0, 768"), new float[0], 0)).vectors().length);
    float[] special = {Float.NaN, Float.NEGATIVE_INFINITY, -0f, Float.MIN_VALUE};
    assertArrayEquals(special, Npy.read(npy(dict("1, 4"), special, 0)).vectors()[0]);
  }

  @Test
  void whatIsNotSuchAnArrayIsRefusedByName() {
    byte[] good = npy(dict("2, 3"), count(6), 0);
    byte[] badMagic = good.clone();
    badMagic[1] = 'X';
    byte[] version3 = good.clone();
    version3[6] = 3;
    byte[] headerPastEnd = java.util.Arrays.copyOf(good, 40);
    String[][] cases = {
      {"magic", "\\x93NUMPY"},
      {"version", "format version 3.0"},
      {"past", "past the file's end"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", "dtype '>f4'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", "dtype '<f8'"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", "fortran_order"},
      {"{'descr': '<f4', 'fortran_order': False, }", "no 'shape'"},
      {"{'fortran_order': False, 'shape': (2, 3), }", "no 'descr'"},
      {dict("6,"), "rank 2 or 3"},
      {dict("1, 2, 1, 3"), "rank 2 or 3"},
      {dict("2, x"), "not an array's"},
      {dict("3, 3"), "needs 36 bytes of data, the file has 24"},
      {dict("99999, 99999, 99999"), "the file has 24"},
      {dict("2147483647, 0"), "a size of 0 after the batch's"},
      {dict("2, 0, 768"), "a size of 0 after the batch's"},
      {"'descr': '<f4'", "not a dict"},
    };
    for (String[] c : cases) {
      byte[] file =
          switch (c[0]) {
            case "magic" -> badMagic;
            case "version" -> version3;
            case "past" -> headerPastEnd;
            default -> npy(c[0], count(6), 0);
          };
      BertClientException e = assertThrows(BertClientException.class, () -> Npy.read(file), c[0]);
      assertTrue(e.getMessage().startsWith("malformed .npy answer: "), e.getMessage());
      assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
    }
    BertClientException trailing =
        assertThrows(BertClientException.class, () -> Npy.read(npy(dict("2, 3"), count(6), 4)));
    assertTrue(trailing.getMessage().contains("the file has 28"), trailing.getMessage());
  }

  @Test
  void filesWrittenByNumpy() throws Exception {
    String script =
        "import sys, numpy as np\n"
            + "a = (np.arange(2 * 3 * 5, dtype='<f4') * 0.25 - 1).reshape(2, 3, 5)\n"
            + "np.save(sys.stdout.buffer, a)\n"
            + "np.save(sys.stdout.buffer, a[:, 1, :].copy())\n";
    byte[] out;
    try {
      Process p = new ProcessBuilder("python3", "-c", script).redirectErrorStream(false).start();
      out = p.getInputStream().readAllBytes();
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      Assumptions.assumeTrue(
          p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0,
          "skipped: python3 with numpy is not installed here (" + err.strip() + ")");
    } catch (java.io.IOException e) {
      Assumptions.abort("skipped: no python3 here (" + e.getMessage() + ")");
      return;
    }
    // two files back to back: the first's length from its header and shape
    int headerLength = (out[8] & 0xff) | (out[9] & 0xff) << 8;
    int first = 10 + headerLength + 2 * 3 * 5 * 4;
    ByteArrayOutputStream a = new ByteArrayOutputStream();
    a.write(out, 0, first);
    byte[] second = java.util.Arrays.copyOfRange(out, first, out.length);
    float[][][] tokens = Npy.read(a.toByteArray()).tokenVectors();
    float[][] pooled = Npy.read(second).vectors();
    for (int b = 0; b < 2; b++) {
      for (int t = 0; t < 3; t++) {
        for (int d = 0; d < 5; d++) {
          assertEquals(((b * 3 + t) * 5 + d) * 0.25f - 1, tokens[b][t][d], "token " + b + t + d);
        }
      }
      assertArrayEquals(tokens[b][1], pooled[b], "row " + b);
    }
  }
}

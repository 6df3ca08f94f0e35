package org.bertserving.client;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code /encode} answer as a NumPy {@code .npy} file (what the server sends for {@code Accept:
 * application/x-npy}): little-endian float32 in C order, {@code [B, D]} pooled or {@code [B, T, D]}
 * token vectors, read straight into float arrays. Format 1.0 as the server writes it (2.0, whose
 * header length has 4 bytes, is read too); anything else is refused by name.
 */
final class Npy {
  static final String MEDIA_TYPE = "application/x-npy";
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(\\w+)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  private Npy() {}

  /**
   * @throws BertClientException naming what is wrong with a file that is not such an array
   */
  static EncodeResult read(byte[] file) {
    if (file.length < 10 || !ByteBuffer.wrap(file, 0, 6).equals(ByteBuffer.wrap(MAGIC))) {
      throw malformed("it does not start with \\x93NUMPY");
    }
    int major = file[6];
    ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    long headerLength;
    int headerStart;
    if (major == 1) {
      headerLength = Short.toUnsignedInt(in.getShort(8));
      headerStart = 10;
    } else if (major == 2 && file.length >= 12) {
      headerLength = Integer.toUnsignedLong(in.getInt(8));
      headerStart = 12;
    } else {
      throw malformed("format version " + major + "." + file[7] + " (1.0 expected)");
    }
    if (headerStart + headerLength > file.length) {
      throw malformed("its header of " + headerLength + " bytes ends past the file's end");
    }
    String header =
        new String(file, headerStart, (int) headerLength, StandardCharsets.ISO_8859_1).strip();
    if (!header.startsWith("{") || !header.endsWith("}")) {
      throw malformed("its header is not a dict: " + header);
    }
    String descr = field(DESCR, header, "descr");
    if (!descr.equals("<f4")) {
      throw malformed("dtype '" + descr + "' ('<f4', little-endian float32, expected)");
    }
    if (!field(FORTRAN, header, "fortran_order").equals("False")) {
      throw malformed("fortran_order is not False");
    }
    int[] shape = shape(field(SHAPE, header, "shape"));
    int dataStart = headerStart + (int) headerLength;
    long floats = 1;
    for (int size : shape) {
      floats = Math.min(floats * size, Integer.MAX_VALUE); // no overflow: a file is shorter
    }
    if (floats * 4 != file.length - dataStart) {
      throw malformed(
          "shape "
              + java.util.Arrays.toString(shape)
              + " needs "
              + floats * 4
              + " bytes of data, the file has "
              + (file.length - dataStart));
    }
    FloatBuffer data =
        ByteBuffer.wrap(file, dataStart, file.length - dataStart)
            .slice()
            .order(ByteOrder.LITTLE_ENDIAN)
            .asFloatBuffer();
    if (shape.length == 2) {
      return new EncodeResult(matrix(data, shape[0], shape[1]), null, null);
    }
    float[][][] tokens = new float[shape[0]][][];
    for (int b = 0; b < tokens.length; b++) {
      tokens[b] = matrix(data, shape[1], shape[2]);
    }
    return new EncodeResult(null, tokens, null);
  }

  private static float[][] matrix(FloatBuffer data, int rows, int columns) {
    float[][] m = new float[rows][columns];
    for (float[] row : m) {
      data.get(row);
    }
    return m;
  }

  private static String field(Pattern pattern, String header, String name) {
    Matcher m = pattern.matcher(header);
    if (!m.find()) {
      throw malformed("its header has no '" + name + "': " + header);
    }
    return m.group(1);
  }

  /** {@code "2, 768"} or {@code "2, 16, 768,"}: rank 2 or 3 of sizes that fit an array. */
  private static int[] shape(String tuple) {
    String[] parts = tuple.strip().split("\\s*,\\s*");
    if (parts.length < 2 || parts.length > 3) {
      throw malformed("shape (" + tuple + ") is not of rank 2 or 3");
    }
    int[] shape = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        shape[i] = Integer.parseInt(parts[i].strip());
      } catch (NumberFormatException e) {
        throw malformed("shape (" + tuple + ") has a size that is not an array's");
      }
      if (shape[i] < 0) {
        throw malformed("shape (" + tuple + ") has a negative size");
      }
      if (shape[i] == 0 && i > 0) {
        // no data to check it against: (2147483647, 0) would allocate that many empty rows
        throw malformed("shape (" + tuple + ") has a size of 0 after the batch's");
      }
    }
    return shape;
  }

  private static BertClientException malformed(String why) {
    return new BertClientException("malformed .npy answer: " + why);
  }
}

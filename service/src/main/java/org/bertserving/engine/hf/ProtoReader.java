package org.bertserving.engine.hf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Protocol-buffer wire format over a buffer, for the few ONNX fields the engine reads: no generated
 * classes, and length-delimited fields come back as views, not copies, so that a memory-mapped
 * model is never read into the heap.
 */
final class ProtoReader {
  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LENGTH_DELIMITED = 2;
  static final int FIXED32 = 5;

  private final ByteBuffer buffer;
  private int field;
  private int wireType;

  ProtoReader(ByteBuffer buffer) {
    this.buffer = buffer.slice().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Moves to the next field; false at the end. */
  boolean next() {
    if (!buffer.hasRemaining()) {
      return false;
    }
    long key = varint();
    field = (int) (key >>> 3);
    wireType = (int) (key & 7);
    return true;
  }

  boolean hasRemaining() {
    return buffer.hasRemaining();
  }

  int field() {
    return field;
  }

  int wireType() {
    return wireType;
  }

  long varint() {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte b = buffer.get();
      result |= (long) (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        return result;
      }
    }
    throw new IllegalArgumentException("malformed varint at byte " + buffer.position());
  }

  /** The current length-delimited field, as a little-endian view. */
  ByteBuffer bytes() {
    int length = Math.toIntExact(varint());
    if (length < 0 || length > buffer.remaining()) {
      throw new IllegalArgumentException(
          "field " + field + " of " + length + " bytes runs past the end");
    }
    ByteBuffer view = buffer.slice(buffer.position(), length).order(ByteOrder.LITTLE_ENDIAN);
    buffer.position(buffer.position() + length);
    return view;
  }

  String string() {
    ByteBuffer b = bytes();
    byte[] copy = new byte[b.remaining()];
    b.get(copy);
    return new String(copy, StandardCharsets.UTF_8);
  }

  float fixed32Float() {
    return buffer.getFloat();
  }

  /** Skips the current field, whatever its type. */
  void skip() {
    switch (wireType) {
      case VARINT -> varint();
      case FIXED64 -> buffer.position(buffer.position() + 8);
      case LENGTH_DELIMITED -> bytes();
      case FIXED32 -> buffer.position(buffer.position() + 4);
      default ->
          throw new IllegalArgumentException(
              "unsupported wire type " + wireType + " of field " + field);
    }
  }
}

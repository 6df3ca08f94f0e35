package org.bertserving.engine.tf;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Reads a TensorFlow V2 checkpoint's {@code .index} table: the name, dtype and shape of every
 * tensor. TensorFlow Java has no checkpoint reader and {@code RestoreV2} cannot list keys, so the
 * model loader reads this LevelDB-format table (sorted string keys, {@code BundleEntryProto}
 * values) itself.
 */
public final class CheckpointIndex {
  private static final long MAGIC = 0xdb4775248b80fb57L;
  private static final int FOOTER = 48;
  private static final int TRAILER = 5;

  private final Map<String, TensorInfo> tensors;

  private CheckpointIndex(Map<String, TensorInfo> tensors) {
    this.tensors = Collections.unmodifiableMap(tensors);
  }

  /** A stored tensor. */
  public record TensorInfo(String name, DataType dtype, long[] shape) {}

  public static CheckpointIndex read(Path indexFile) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(indexFile);
    } catch (NoSuchFileException e) {
      throw new IOException("checkpoint index " + indexFile + " not found", e);
    }
    try {
      return new CheckpointIndex(parse(bytes));
    } catch (RuntimeException | InvalidProtocolBufferException e) {
      throw new IOException(
          "checkpoint index " + indexFile + " is malformed: " + e.getMessage(), e);
    }
  }

  /** Every tensor by name, sorted. */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  private static Map<String, TensorInfo> parse(byte[] bytes) throws InvalidProtocolBufferException {
    if (bytes.length < FOOTER) {
      throw new IllegalArgumentException("shorter than a table footer");
    }
    ByteBuffer footer =
        ByteBuffer.wrap(bytes, bytes.length - FOOTER, FOOTER).order(ByteOrder.LITTLE_ENDIAN);
    if (footer.getLong(bytes.length - 8) != MAGIC) {
      throw new IllegalArgumentException("no table magic number at the end");
    }
    readVarint(footer); // metaindex handle: offset
    readVarint(footer); // and size
    long indexOffset = readVarint(footer);
    long indexSize = readVarint(footer);
    Map<String, TensorInfo> tensors = new TreeMap<>();
    for (byte[] handle : block(bytes, indexOffset, indexSize).values()) {
      ByteBuffer h = ByteBuffer.wrap(handle);
      long offset = readVarint(h);
      long size = readVarint(h);
      for (Map.Entry<String, byte[]> e : block(bytes, offset, size).entrySet()) {
        if (e.getKey().isEmpty()) {
          continue; // the BundleHeaderProto
        }
        BundleEntryProto entry = BundleEntryProto.parseFrom(e.getValue());
        TensorShapeProto shapeProto = entry.getShape();
        long[] shape = new long[shapeProto.getDimCount()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = shapeProto.getDim(i).getSize();
        }
        tensors.put(e.getKey(), new TensorInfo(e.getKey(), entry.getDtype(), shape));
      }
    }
    return tensors;
  }

  /** The key/value entries of one block (prefix-compressed keys, restart array at the end). */
  private static Map<String, byte[]> block(byte[] bytes, long offset, long size) {
    if (offset < 0 || offset + size + TRAILER > bytes.length) {
      throw new IllegalArgumentException("block at " + offset + " runs past the end of the file");
    }
    if (bytes[(int) (offset + size)] != 0) {
      throw new IllegalArgumentException("compressed blocks are not supported");
    }
    ByteBuffer b =
        ByteBuffer.wrap(bytes, (int) offset, (int) size).slice().order(ByteOrder.LITTLE_ENDIAN);
    int restarts = b.getInt((int) size - 4);
    int end = (int) size - 4 - 4 * restarts;
    Map<String, byte[]> entries = new TreeMap<>();
    byte[] key = new byte[0];
    while (b.position() < end) {
      int shared = (int) readVarint(b);
      int unshared = (int) readVarint(b);
      int valueLength = (int) readVarint(b);
      byte[] next = new byte[shared + unshared];
      System.arraycopy(key, 0, next, 0, shared);
      b.get(next, shared, unshared);
      key = next;
      byte[] value = new byte[valueLength];
      b.get(value);
      entries.put(new String(key, java.nio.charset.StandardCharsets.UTF_8), value);
    }
    return entries;
  }

  private static long readVarint(ByteBuffer b) {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte next = b.get();
      result |= (long) (next & 0x7f) << shift;
      if ((next & 0x80) == 0) {
        return result;
      }
    }
    throw new IllegalArgumentException("varint too long");
  }
}

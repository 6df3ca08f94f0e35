package org.bertserving.engine.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a {@code .safetensors} file: an 8-byte little-endian header length, a JSON header naming
 * each tensor's dtype, shape and byte range, then the raw little-endian tensors. Each tensor is
 * memory-mapped, not read: the engine copies it once, into the TensorFlow variable.
 */
public final class Safetensors {
  /** Far beyond any real header; a larger value means the file is something else. */
  private static final long MAX_HEADER = 100L << 20;

  private Safetensors() {}

  /**
   * A {@code .safetensors} file, or all the shards a {@code model.safetensors.index.json} names.
   */
  public static Map<String, StoredTensor> readAll(Path file) throws IOException {
    if (!file.getFileName().toString().endsWith(".index.json")) {
      return read(file);
    }
    JsonNode index;
    try {
      index = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException("cannot read safetensors index " + file + ": " + e.getMessage(), e);
    }
    Map<String, StoredTensor> tensors = new LinkedHashMap<>();
    java.util.Set<String> shards = new java.util.TreeSet<>();
    index.path("weight_map").forEach(shard -> shards.add(shard.asText()));
    if (shards.isEmpty()) {
      throw new IOException("safetensors index " + file + " has no weight_map");
    }
    for (String shard : shards) {
      tensors.putAll(read(file.resolveSibling(shard)));
    }
    return tensors;
  }

  public static Map<String, StoredTensor> read(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      if (size < 8 || channel.read(lengthBytes, 0) != 8) {
        throw bad(file, "shorter than its 8-byte header length");
      }
      long headerLength = lengthBytes.getLong(0);
      if (headerLength <= 0 || headerLength > MAX_HEADER || 8 + headerLength > size) {
        throw bad(
            file, "header length " + headerLength + " does not fit a file of " + size + " bytes");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLength);
      channel.read(header, 8);
      JsonNode json;
      try {
        json = new ObjectMapper().readTree(new String(header.array(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw bad(file, "header is not JSON: " + e.getMessage());
      }
      long dataStart = 8 + headerLength;
      Map<String, StoredTensor> tensors = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : json.properties()) {
        if (!e.getKey().equals("__metadata__")) {
          tensors.put(e.getKey(), tensor(file, channel, e.getKey(), e.getValue(), dataStart, size));
        }
      }
      return tensors;
    }
  }

  private static StoredTensor tensor(
      Path file, FileChannel channel, String name, JsonNode entry, long dataStart, long fileSize)
      throws IOException {
    String dtype = entry.path("dtype").asText("");
    JsonNode shapeNode = entry.path("shape");
    long[] shape = new long[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeNode.get(i).asLong();
    }
    long begin = entry.path("data_offsets").path(0).asLong(-1);
    long end = entry.path("data_offsets").path(1).asLong(-1);
    if (begin < 0 || end < begin || dataStart + end > fileSize) {
      throw bad(
          file,
          "tensor '"
              + name
              + "' has data_offsets "
              + entry.path("data_offsets")
              + " outside the file");
    }
    StoredTensor t = new StoredTensor(name, dtype, shape, null, false);
    int width = StoredTensor.floatWidth(dtype);
    if (width > 0 && t.elements() * width != end - begin) {
      throw bad(
          file,
          "tensor '"
              + name
              + "' ("
              + dtype
              + " "
              + shapeNode
              + ") should take "
              + t.elements() * width
              + " bytes but takes "
              + (end - begin));
    }
    ByteBuffer data =
        channel
            .map(FileChannel.MapMode.READ_ONLY, dataStart + begin, end - begin)
            .order(ByteOrder.LITTLE_ENDIAN);
    return new StoredTensor(name, dtype, shape, data, false);
  }

  private static IOException bad(Path file, String what) {
    return new IOException("safetensors file " + file + ": " + what);
  }
}

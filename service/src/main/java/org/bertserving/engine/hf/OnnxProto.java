package org.bertserving.engine.hf;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bertserving.engine.hf.OnnxModel.Node;

/**
 * ONNX's protobuf messages, the few fields the engine needs, by field number as {@code onnx.proto}
 * defines them: {@code ModelProto.graph} (7); {@code GraphProto.node} (1) and {@code initializer}
 * (5); {@code NodeProto} input, output, name, op_type, attribute (1-5); {@code TensorProto} dims
 * (1), data_type (2), float_data (4), name (8), raw_data (9), external_data (13). Read with
 * protobuf-java's {@link CodedInputStream} (TensorFlow's own dependency) over the mapped file: a
 * weight is a view of the memory-mapped file, never a copy in the heap.
 */
final class OnnxProto {
  /** An attribute that is one number: {@code f}, {@code i}, or a one-float tensor {@code t}. */
  private record Attribute(String name, Float f, Long i) {}

  private OnnxProto() {}

  /** A reader over {@code bytes}, which must start at position 0 (a slice). */
  private static CodedInputStream reader(ByteBuffer bytes) {
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    in.setSizeLimit(Integer.MAX_VALUE);
    return in;
  }

  /**
   * The current length-delimited field of {@code in}, reading {@code bytes}, as a little-endian
   * view: protobuf-java's own readByteBuffer copies a field of a buffer it may not alias.
   */
  private static ByteBuffer view(CodedInputStream in, ByteBuffer bytes) throws IOException {
    int length = in.readRawVarint32();
    ByteBuffer view = bytes.slice(in.getTotalBytesRead(), length).order(ByteOrder.LITTLE_ENDIAN);
    in.skipRawBytes(length);
    return view;
  }

  /** A field's tag as the wire has it: its number and its wire type. */
  private static int tag(int field, int wireType) {
    return field << 3 | wireType;
  }

  private static boolean delimited(int tag) {
    return WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
  }

  static void readModel(
      Path file, ByteBuffer bytes, Map<String, StoredTensor> initializers, List<Node> nodes)
      throws IOException {
    bytes = bytes.slice();
    CodedInputStream model = reader(bytes);
    for (int tag = model.readTag(); tag != 0; tag = model.readTag()) {
      if (tag == tag(7, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
        readGraph(file, view(model, bytes), initializers, nodes);
      } else {
        model.skipField(tag);
      }
    }
  }

  private static void readGraph(
      Path file, ByteBuffer graph, Map<String, StoredTensor> initializers, List<Node> nodes)
      throws IOException {
    CodedInputStream g = reader(graph);
    for (int tag = g.readTag(); tag != 0; tag = g.readTag()) {
      if (tag == tag(1, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
        nodes.add(readNode(file, view(g, graph)));
      } else if (tag == tag(5, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
        StoredTensor t = readTensor(file, view(g, graph));
        initializers.put(t.name(), t);
      } else {
        g.skipField(tag);
      }
    }
  }

  private static Node readNode(Path file, ByteBuffer bytes) throws IOException {
    CodedInputStream n = reader(bytes);
    List<String> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    List<Attribute> attributes = new ArrayList<>();
    String name = "";
    String op = "";
    for (int tag = n.readTag(); tag != 0; tag = n.readTag()) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> inputs.add(n.readStringRequireUtf8());
        case 2 -> outputs.add(n.readStringRequireUtf8());
        case 3 -> name = n.readStringRequireUtf8();
        case 4 -> op = n.readStringRequireUtf8();
        case 5 -> attributes.add(readAttribute(file, view(n, bytes)));
        default -> n.skipField(tag);
      }
    }
    Float scalar = null;
    Float epsilon = null;
    boolean transB = false;
    for (Attribute a : attributes) {
      switch (a.name()) {
        case "value", "value_float" -> scalar = op.equals("Constant") ? a.f() : null;
        case "epsilon" -> epsilon = op.equals("LayerNormalization") ? a.f() : null;
        case "transB" -> transB = a.i() != null && a.i() != 0;
        default -> {}
      }
    }
    return new Node(name, op, inputs, outputs, scalar, epsilon, transB);
  }

  private static Attribute readAttribute(Path file, ByteBuffer bytes) throws IOException {
    CodedInputStream a = reader(bytes);
    String name = "";
    Float f = null;
    Long i = null;
    for (int tag = a.readTag(); tag != 0; tag = a.readTag()) {
      if (tag == tag(1, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
        name = a.readStringRequireUtf8();
      } else if (tag == tag(2, WireFormat.WIRETYPE_FIXED32)) {
        f = a.readFloat();
      } else if (tag == tag(3, WireFormat.WIRETYPE_VARINT)) {
        i = a.readInt64();
      } else if (tag == tag(5, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
        StoredTensor t = readTensor(file, view(a, bytes));
        if (t.dtype().equals("F32") && t.elements() == 1 && t.data() != null) {
          f = t.data().getFloat(0);
        }
      } else {
        a.skipField(tag);
      }
    }
    return new Attribute(name, f, i);
  }

  /** A {@code TensorProto}: raw bytes, packed floats, or a byte range of an external file. */
  private static StoredTensor readTensor(Path file, ByteBuffer bytes) throws IOException {
    CodedInputStream t = reader(bytes);
    List<Long> dims = new ArrayList<>();
    int dataType = 0;
    String name = "";
    ByteBuffer data = null;
    Map<String, String> external = new HashMap<>();
    for (int tag = t.readTag(); tag != 0; tag = t.readTag()) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> {
          if (delimited(tag)) {
            CodedInputStream packed = reader(view(t, bytes));
            while (!packed.isAtEnd()) {
              dims.add(packed.readInt64());
            }
          } else {
            dims.add(t.readInt64());
          }
        }
        case 2 -> dataType = t.readInt32();
        case 8 -> name = t.readStringRequireUtf8();
        // raw_data, or float_data packed (the same little-endian bytes)
        case 9 -> data = view(t, bytes);
        case 4 -> {
          if (delimited(tag)) {
            data = view(t, bytes);
          } else {
            throw new IOException(
                "ONNX file "
                    + file
                    + ": tensor '"
                    + name
                    + "' stores unpacked float_data, which is not supported");
          }
        }
        case 13 -> {
          CodedInputStream entry = reader(view(t, bytes));
          String key = "";
          String value = "";
          for (int e = entry.readTag(); e != 0; e = entry.readTag()) {
            switch (WireFormat.getTagFieldNumber(e)) {
              case 1 -> key = entry.readStringRequireUtf8();
              case 2 -> value = entry.readStringRequireUtf8();
              default -> entry.skipField(e);
            }
          }
          external.put(key, value);
        }
        default -> t.skipField(tag);
      }
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    if (!external.isEmpty()) {
      data = externalData(file, name, external);
    }
    return new StoredTensor(name, dtypeName(dataType), shape, data, false);
  }

  private static ByteBuffer externalData(Path file, String name, Map<String, String> external)
      throws IOException {
    Path location = file.resolveSibling(external.getOrDefault("location", ""));
    long offset = Long.parseLong(external.getOrDefault("offset", "0"));
    try (FileChannel channel = FileChannel.open(location, StandardOpenOption.READ)) {
      long length =
          external.containsKey("length")
              ? Long.parseLong(external.get("length"))
              : channel.size() - offset;
      if (offset < 0 || offset + length > channel.size()) {
        throw new IOException(
            "ONNX file " + file + ": tensor '" + name + "' lies outside " + location);
      }
      return channel
          .map(FileChannel.MapMode.READ_ONLY, offset, length)
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException(
          "ONNX file "
              + file
              + ": tensor '"
              + name
              + "' is stored in "
              + location
              + ", which does not exist",
          e);
    }
  }

  /** ONNX's {@code TensorProto.DataType} in safetensors' names. */
  private static String dtypeName(int dataType) {
    return switch (dataType) {
      case 1 -> "F32";
      case 2 -> "U8";
      case 3 -> "I8";
      case 6 -> "I32";
      case 7 -> "I64";
      case 10 -> "F16";
      case 11 -> "F64";
      case 16 -> "BF16";
      default -> "ONNX type " + dataType;
    };
  }
}

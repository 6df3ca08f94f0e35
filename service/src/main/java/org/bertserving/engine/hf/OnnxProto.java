package org.bertserving.engine.hf;

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
 * (1), data_type (2), float_data (4), name (8), raw_data (9), external_data (13).
 */
final class OnnxProto {
  /** An attribute that is one number: {@code f}, {@code i}, or a one-float tensor {@code t}. */
  private record Attribute(String name, Float f, Long i) {}

  private OnnxProto() {}

  static void readModel(
      Path file, ByteBuffer bytes, Map<String, StoredTensor> initializers, List<Node> nodes)
      throws IOException {
    ProtoReader model = new ProtoReader(bytes);
    while (model.next()) {
      if (model.field() == 7 && model.wireType() == ProtoReader.LENGTH_DELIMITED) {
        readGraph(file, model.bytes(), initializers, nodes);
      } else {
        model.skip();
      }
    }
  }

  private static void readGraph(
      Path file, ByteBuffer graph, Map<String, StoredTensor> initializers, List<Node> nodes)
      throws IOException {
    ProtoReader g = new ProtoReader(graph);
    while (g.next()) {
      if (g.field() == 1 && g.wireType() == ProtoReader.LENGTH_DELIMITED) {
        nodes.add(readNode(file, g.bytes()));
      } else if (g.field() == 5 && g.wireType() == ProtoReader.LENGTH_DELIMITED) {
        StoredTensor t = readTensor(file, g.bytes());
        initializers.put(t.name(), t);
      } else {
        g.skip();
      }
    }
  }

  private static Node readNode(Path file, ByteBuffer bytes) throws IOException {
    ProtoReader n = new ProtoReader(bytes);
    List<String> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    List<Attribute> attributes = new ArrayList<>();
    String name = "";
    String op = "";
    while (n.next()) {
      switch (n.field()) {
        case 1 -> inputs.add(n.string());
        case 2 -> outputs.add(n.string());
        case 3 -> name = n.string();
        case 4 -> op = n.string();
        case 5 -> attributes.add(readAttribute(file, n.bytes()));
        default -> n.skip();
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
    ProtoReader a = new ProtoReader(bytes);
    String name = "";
    Float f = null;
    Long i = null;
    while (a.next()) {
      if (a.field() == 1) {
        name = a.string();
      } else if (a.field() == 2 && a.wireType() == ProtoReader.FIXED32) {
        f = a.fixed32Float();
      } else if (a.field() == 3 && a.wireType() == ProtoReader.VARINT) {
        i = a.varint();
      } else if (a.field() == 5 && a.wireType() == ProtoReader.LENGTH_DELIMITED) {
        StoredTensor t = readTensor(file, a.bytes());
        if (t.dtype().equals("F32") && t.elements() == 1 && t.data() != null) {
          f = t.data().getFloat(0);
        }
      } else {
        a.skip();
      }
    }
    return new Attribute(name, f, i);
  }

  /** A {@code TensorProto}: raw bytes, packed floats, or a byte range of an external file. */
  private static StoredTensor readTensor(Path file, ByteBuffer bytes) throws IOException {
    ProtoReader t = new ProtoReader(bytes);
    List<Long> dims = new ArrayList<>();
    int dataType = 0;
    String name = "";
    ByteBuffer data = null;
    Map<String, String> external = new HashMap<>();
    while (t.next()) {
      switch (t.field()) {
        case 1 -> {
          if (t.wireType() == ProtoReader.LENGTH_DELIMITED) {
            ProtoReader packed = new ProtoReader(t.bytes());
            while (packed.hasRemaining()) {
              dims.add(packed.varint());
            }
          } else {
            dims.add(t.varint());
          }
        }
        case 2 -> dataType = (int) t.varint();
        case 8 -> name = t.string();
        // raw_data, or float_data packed (the same little-endian bytes)
        case 9 -> data = t.bytes();
        case 4 -> {
          if (t.wireType() == ProtoReader.LENGTH_DELIMITED) {
            data = t.bytes();
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
          ProtoReader entry = new ProtoReader(t.bytes());
          String key = "";
          String value = "";
          while (entry.next()) {
            if (entry.field() == 1) {
              key = entry.string();
            } else if (entry.field() == 2) {
              value = entry.string();
            } else {
              entry.skip();
            }
          }
          external.put(key, value);
        }
        default -> t.skip();
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

package org.bertserving.engine.hf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The parts of an ONNX file ({@code ModelProto}) that hold a BERT's weights: the graph's
 * initializers and the nodes that consume them. The file is memory-mapped; initializers stay views
 * into it. Only what a PyTorch export of a BERT needs is read; an ONNX Runtime-optimized or
 * quantized graph is refused.
 */
public final class OnnxModel {
  /** Fused or quantized operators: their weights are packed in ways the BERT graph does not take. */
  private static final Set<String> REFUSED_OPS = Set.of("Attention", "MultiHeadAttention",
      "SkipLayerNormalization", "EmbedLayerNormalization", "FastGelu", "BiasGelu", "MatMulInteger",
      "QLinearMatMul", "DynamicQuantizeLinear", "QAttention", "MatMulNBits");

  /** A node of the graph; {@code scalar} is a Constant node's value when that is one float. */
  record Node(String name, String opType, List<String> inputs, List<String> outputs, Float scalar,
      Float epsilon, boolean transB) {}

  /** An attribute that is one number: {@code f}, {@code i}, or a one-float tensor {@code t}. */
  private record Attribute(String name, Float f, Long i) {}

  private final Path file;
  private final Map<String, StoredTensor> initializers;
  private final List<Node> nodes;

  private OnnxModel(Path file, Map<String, StoredTensor> initializers, List<Node> nodes) {
    this.file = file;
    this.initializers = initializers;
    this.nodes = nodes;
  }

  public static OnnxModel read(Path file) throws IOException {
    ByteBuffer bytes;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      bytes = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
    }
    Map<String, StoredTensor> initializers = new LinkedHashMap<>();
    List<Node> nodes = new ArrayList<>();
    try {
      ProtoReader model = new ProtoReader(bytes);
      while (model.next()) {
        if (model.field() == 7 && model.wireType() == ProtoReader.LENGTH_DELIMITED) {
          readGraph(file, model.bytes(), initializers, nodes);
        } else {
          model.skip();
        }
      }
    } catch (RuntimeException e) {
      throw new IOException("ONNX file " + file + " is malformed: " + e.getMessage(), e);
    }
    if (nodes.isEmpty()) {
      throw new IOException("ONNX file " + file + " holds no graph (is it an ONNX model?)");
    }
    for (Node node : nodes) {
      if (REFUSED_OPS.contains(node.opType())) {
        throw new IOException("ONNX file " + file + ": node '" + node.name() + "' is a "
            + node.opType() + " (an ONNX Runtime-optimized or quantized graph); export the model "
            + "from PyTorch without optimization or quantization");
      }
    }
    return new OnnxModel(file, initializers, nodes);
  }

  public Path file() {
    return file;
  }

  /**
   * The weights by their PyTorch module names ({@code encoder.layer.0.attention.self.query.weight}).
   * Exporters keep most names but turn a dense layer's weight into an anonymous MatMul operand
   * ({@code onnx::MatMul_123}, already {@code [in, out]}): that one is named after the node that
   * consumes it ({@code /encoder/layer.0/attention/self/query/MatMul}).
   */
  public Map<String, StoredTensor> tensorsByModuleName() {
    Map<String, StoredTensor> renamed = new HashMap<>();
    for (Node node : nodes) {
      boolean matMul = node.opType().equals("MatMul");
      if ((matMul || node.opType().equals("Gemm")) && node.inputs().size() > 1) {
        StoredTensor weight = initializers.get(node.inputs().get(1));
        if (weight == null) {
          continue;
        }
        String module = moduleOf(node.name());
        String name = weight.name().endsWith(".weight") || module == null
            ? weight.name() : module + ".weight";
        // MatMul multiplies by [in, out]; a Gemm exported from torch.nn.Linear by [out, in]^T
        boolean kernel = matMul || !node.transB();
        renamed.put(weight.name(),
            new StoredTensor(name, weight.dtype(), weight.shape(), weight.data(), kernel));
      }
    }
    Map<String, StoredTensor> out = new LinkedHashMap<>();
    for (StoredTensor t : initializers.values()) {
      StoredTensor named = renamed.getOrDefault(t.name(), t);
      out.put(named.name(), named);
    }
    return out;
  }

  /** {@code /encoder/layer.0/attention/self/query/MatMul} to {@code encoder.layer.0.attention.self.query}. */
  private static String moduleOf(String nodeName) {
    int slash = nodeName.lastIndexOf('/');
    if (!nodeName.startsWith("/") || slash <= 0) {
      return null;
    }
    return nodeName.substring(1, slash).replace('/', '.');
  }

  /**
   * The attention head width, from the scale of the first layer's scores (a division by
   * {@code sqrt(head_size)}, or a multiplication by its inverse); null when the graph does not say.
   */
  public Integer headSize() {
    Map<String, Float> scalars = scalars();
    for (Node node : nodes) {
      if (!node.name().contains("attention/self/") || !node.name().contains("layer.0/")) {
        continue;
      }
      for (String input : node.inputs()) {
        Float c = scalars.get(input);
        if (c != null && c > 0 && node.opType().equals("Div")) {
          return Math.round(c * c);
        }
        if (c != null && c > 0 && c < 1 && node.opType().equals("Mul")) {
          return Math.round(1 / (c * c));
        }
      }
    }
    return null;
  }

  /** The intermediate activation, in BertConfig's names; null when the graph does not say. */
  public String activation() {
    for (Node node : nodes) {
      switch (node.opType()) {
        case "Erf", "Gelu" -> {
          return "gelu_exact";
        }
        case "Tanh" -> {
          if (node.name().contains("intermediate")) {
            return "gelu";
          }
        }
        case "Relu" -> {
          if (node.name().contains("intermediate")) {
            return "relu";
          }
        }
        default -> { }
      }
    }
    return null;
  }

  /** The layer-norm epsilon of the embeddings; null when the graph does not say. */
  public Float layerNormEpsilon() {
    Map<String, Float> scalars = scalars();
    for (Node node : nodes) {
      if (node.epsilon() != null) {
        return node.epsilon();
      }
      if (node.opType().equals("Add") && node.name().endsWith("embeddings/LayerNorm/Add")) {
        for (String input : node.inputs()) {
          if (scalars.containsKey(input)) {
            return scalars.get(input);
          }
        }
      }
    }
    return null;
  }

  private Map<String, Float> scalars() {
    Map<String, Float> scalars = new HashMap<>();
    for (Node node : nodes) {
      if (node.scalar() != null && !node.outputs().isEmpty()) {
        scalars.put(node.outputs().get(0), node.scalar());
      }
    }
    for (StoredTensor t : initializers.values()) {
      if (t.dtype().equals("F32") && t.elements() == 1 && t.data() != null) {
        scalars.put(t.name(), t.data().getFloat(0));
      }
    }
    return scalars;
  }

  // ---- wire format ----------------------------------------------------------------------------

  private static void readGraph(Path file, ByteBuffer graph, Map<String, StoredTensor> initializers,
      List<Node> nodes) throws IOException {
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
        default -> { }
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
            throw new IOException("ONNX file " + file + ": tensor '" + name
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
      long length = external.containsKey("length") ? Long.parseLong(external.get("length"))
          : channel.size() - offset;
      if (offset < 0 || offset + length > channel.size()) {
        throw new IOException("ONNX file " + file + ": tensor '" + name + "' lies outside "
            + location);
      }
      return channel.map(FileChannel.MapMode.READ_ONLY, offset, length).order(ByteOrder.LITTLE_ENDIAN);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException("ONNX file " + file + ": tensor '" + name + "' is stored in "
          + location + ", which does not exist", e);
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

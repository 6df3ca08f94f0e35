package org.bertserving.engine.hf;

import java.io.IOException;
import java.nio.ByteBuffer;
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
  /**
   * Fused or quantized operators: their weights are packed in ways the BERT graph does not take.
   */
  private static final Set<String> REFUSED_OPS =
      Set.of(
          "Attention",
          "MultiHeadAttention",
          "SkipLayerNormalization",
          "EmbedLayerNormalization",
          "FastGelu",
          "BiasGelu",
          "MatMulInteger",
          "QLinearMatMul",
          "DynamicQuantizeLinear",
          "QAttention",
          "MatMulNBits");

  /**
   * A node of the graph: {@code scalar} is a Constant node's value when that is one float, {@code
   * epsilon} a LayerNormalization's, {@code transB} a Gemm's.
   */
  record Node(
      String name,
      String opType,
      List<String> inputs,
      List<String> outputs,
      Float scalar,
      Float epsilon,
      boolean transB) {}

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
      OnnxProto.readModel(file, bytes, initializers, nodes);
    } catch (RuntimeException e) {
      throw new IOException("ONNX file " + file + " is malformed: " + e.getMessage(), e);
    }
    if (nodes.isEmpty()) {
      throw new IOException("ONNX file " + file + " holds no graph (is it an ONNX model?)");
    }
    for (Node node : nodes) {
      if (REFUSED_OPS.contains(node.opType())) {
        throw new IOException(
            "ONNX file "
                + file
                + ": node '"
                + node.name()
                + "' is a "
                + node.opType()
                + " (an ONNX Runtime-optimized or quantized graph); export the model "
                + "from PyTorch without optimization or quantization");
      }
    }
    return new OnnxModel(file, initializers, nodes);
  }

  public Path file() {
    return file;
  }

  /**
   * The weights by their PyTorch module names ({@code
   * encoder.layer.0.attention.self.query.weight}). Exporters keep most names but turn a dense
   * layer's weight into an anonymous MatMul operand ({@code onnx::MatMul_123}, already {@code [in,
   * out]}): that one is named after the node that consumes it ({@code
   * /encoder/layer.0/attention/self/query/MatMul}).
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
        String name =
            weight.name().endsWith(".weight") || module == null
                ? weight.name()
                : module + ".weight";
        // MatMul multiplies by [in, out]; a Gemm exported from torch.nn.Linear by [out, in]^T
        boolean kernel = matMul || !node.transB();
        renamed.put(
            weight.name(),
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

  /**
   * {@code /encoder/layer.0/attention/self/query/MatMul} to {@code
   * encoder.layer.0.attention.self.query}.
   */
  private static String moduleOf(String nodeName) {
    int slash = nodeName.lastIndexOf('/');
    if (!nodeName.startsWith("/") || slash <= 0) {
      return null;
    }
    return nodeName.substring(1, slash).replace('/', '.');
  }

  /**
   * The attention head width, from the scale of the first layer's scores (a division by {@code
   * sqrt(head_size)}, or a multiplication by its inverse); null when the graph does not say.
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
        default -> {}
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
}

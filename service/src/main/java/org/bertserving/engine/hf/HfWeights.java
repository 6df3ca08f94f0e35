package org.bertserving.engine.hf;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.ModelLoadException;

/**
 * A Hugging Face BERT's tensors under the engine's graph names: the graph asks for Google's name
 * ({@code bert/encoder/layer_0/attention/self/query/kernel}) and gets PyTorch's ({@code
 * encoder.layer.0.attention.self.query.weight}, under a prefix such as {@code bert.} when there is
 * one), with whether it must be transposed ({@code [out, in]} to {@code [in, out]}). Shapes are
 * checked against the config; errors name the file and the tensor.
 */
public final class HfWeights {
  private static final String ANCHOR = "embeddings.word_embeddings.weight";
  private static final Pattern LAYER = Pattern.compile("encoder\\.layer\\.(\\d+)\\.");

  /** A stored tensor for a graph weight, and whether it is {@code [out, in]} to be transposed. */
  public record Source(StoredTensor tensor, boolean transpose) {}

  private final Path file;
  private final Map<String, StoredTensor> tensors;
  private final String prefix;
  private final BertConfig config;

  private HfWeights(
      Path file, Map<String, StoredTensor> tensors, String prefix, BertConfig config) {
    this.file = file;
    this.tensors = tensors;
    this.prefix = prefix;
    this.config = config;
  }

  /**
   * @param tensors by PyTorch name
   * @param declared the model's {@code config.json}, or null to derive it from the tensors and the
   *     ONNX graph
   * @param graph the ONNX graph the tensors come from, or null
   */
  public static HfWeights of(
      Path file, Map<String, StoredTensor> tensors, BertConfig declared, OnnxModel graph) {
    String anchor =
        tensors.keySet().stream()
            .filter(k -> k.endsWith(ANCHOR))
            .findFirst()
            .orElseThrow(
                () ->
                    new ModelLoadException(
                        file
                            + " holds no BERT word embeddings (a "
                            + "tensor named ..."
                            + ANCHOR
                            + "); it holds: "
                            + summary(tensors)));
    String prefix = anchor.substring(0, anchor.length() - ANCHOR.length());
    BertConfig config = declared != null ? declared : derive(file, tensors, prefix, graph);
    return new HfWeights(file, tensors, prefix, config);
  }

  public BertConfig config() {
    return config;
  }

  public Path file() {
    return file;
  }

  /** The stored tensor for a graph weight, checked against the shape the graph expects. */
  public Source require(String graphName, long[] shape) {
    List<String> names = names(graphName);
    StoredTensor t =
        names.stream()
            .map(tensors::get)
            .filter(x -> x != null)
            .findFirst()
            .orElseThrow(
                () ->
                    new ModelLoadException(
                        file
                            + " has no tensor '"
                            + names.get(0)
                            + "' (needed by the graph); it holds: "
                            + summary(tensors)));
    if (StoredTensor.floatWidth(t.dtype()) == 0) {
      throw new ModelLoadException(
          file + ": tensor '" + t.name() + "' is " + t.dtype() + ", expected F32, F16 or BF16");
    }
    if (t.data() == null) {
      throw new ModelLoadException(file + ": tensor '" + t.name() + "' has no data");
    }
    // a dense kernel is [in, out] in the graph; the head's output_weights [labels, hidden] as
    // PyTorch stores it, so an ONNX MatMul operand ([in, out]) of either is turned
    boolean transpose =
        graphName.endsWith("/kernel") ? !t.kernelLayout() : isHead(graphName) && t.kernelLayout();
    long[] stored = transpose ? new long[] {shape[1], shape[0]} : shape;
    if (!Arrays.equals(t.shape(), stored)) {
      throw new ModelLoadException(
          file
              + ": tensor '"
              + t.name()
              + "' has shape "
              + Arrays.toString(t.shape())
              + ", the config needs "
              + Arrays.toString(stored)
              + " (hidden_size "
              + config.hiddenSize()
              + ", intermediate_size "
              + config.intermediateSize()
              + ", vocab_size "
              + config.vocabSize()
              + ")");
    }
    return new Source(t, transpose);
  }

  private static boolean isHead(String graphName) {
    return graphName.equals("output_weights");
  }

  /**
   * PyTorch's names for a graph weight, the usual first ({@code LayerNorm.weight}, older {@code
   * .gamma}).
   */
  List<String> names(String graphName) {
    if (graphName.equals("output_weights")) {
      return List.of("classifier.weight"); // [labels, hidden] in both worlds
    }
    if (graphName.equals("output_bias")) {
      return List.of("classifier.bias");
    }
    String path =
        prefix
            + graphName
                .replaceFirst("^bert/", "")
                .replaceAll("layer_(\\d+)", "layer.$1")
                .replace('/', '.');
    int dot = path.lastIndexOf('.');
    String base = path.substring(0, dot);
    switch (path.substring(dot + 1)) {
      case "kernel":
        return List.of(base + ".weight");
      case "gamma":
        return List.of(base + ".weight", base + ".gamma");
      case "beta":
        return List.of(base + ".bias", base + ".beta");
      case "bias":
        return List.of(path);
      default:
        return List.of(path + ".weight"); // the embedding tables
    }
  }

  /** An ONNX file without config.json: sizes from the tensors, the rest from the graph. */
  private static BertConfig derive(
      Path file, Map<String, StoredTensor> t, String prefix, OnnxModel graph) {
    long[] words = shape(file, t, prefix + ANCHOR);
    long[] positions = shape(file, t, prefix + "embeddings.position_embeddings.weight");
    long[] types = shape(file, t, prefix + "embeddings.token_type_embeddings.weight");
    StoredTensor inner = t.get(prefix + "encoder.layer.0.intermediate.dense.weight");
    if (inner == null || inner.shape().length != 2) {
      throw new ModelLoadException(
          file
              + " has no tensor '"
              + prefix
              + "encoder.layer.0.intermediate.dense.weight' to derive the BERT config from");
    }
    int hidden = (int) words[1];
    int intermediate = (int) inner.shape()[inner.kernelLayout() ? 1 : 0];
    int layers =
        (int)
            t.keySet().stream()
                .map(k -> LAYER.matcher(k))
                .filter(Matcher::find)
                .map(m -> m.group(1))
                .distinct()
                .count();
    Integer headSize = graph == null ? null : graph.headSize();
    String act = graph == null ? null : graph.activation();
    if (headSize == null || headSize <= 0 || hidden % headSize != 0 || act == null) {
      throw new ModelLoadException(
          file
              + ": no config.json beside it, and its graph does not "
              + "show "
              + (act == null ? "the activation" : "the attention head size")
              + "; put the model's config.json beside it");
    }
    Float eps = graph.layerNormEpsilon();
    // the graph holds float32: read it back as the decimal the config said (1e-12)
    return new BertConfig(
        (int) words[0],
        hidden,
        layers,
        hidden / headSize,
        intermediate,
        act,
        (int) positions[0],
        (int) types[0],
        eps != null ? Double.parseDouble(Float.toString(eps)) : BertConfig.LAYER_NORM_EPS);
  }

  private static long[] shape(Path file, Map<String, StoredTensor> t, String name) {
    StoredTensor tensor = t.get(name);
    if (tensor == null) {
      throw new ModelLoadException(
          file + " has no tensor '" + name + "' to derive the BERT config from");
    }
    return tensor.shape();
  }

  /** A readable digest of the names: layer numbers folded into {@code layer.N}. */
  static String summary(Map<String, StoredTensor> tensors) {
    TreeSet<String> names =
        tensors.keySet().stream()
            .map(k -> k.replaceAll("layer\\.\\d+\\.", "layer.N."))
            .collect(Collectors.toCollection(TreeSet::new));
    String joined = String.join(", ", names.stream().limit(40).toList());
    return names.size() > 40 ? joined + ", ... (" + names.size() + " patterns)" : joined;
  }
}

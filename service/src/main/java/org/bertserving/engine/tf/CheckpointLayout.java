package org.bertserving.engine.tf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.ModelLoadException;
import org.bertserving.engine.tf.CheckpointIndex.TensorInfo;
import org.tensorflow.proto.DataType;

/**
 * What a checkpoint holds, read from its {@code .index} table: the prefix its BERT variables sit
 * under ({@code bert/} in Google's checkpoints, {@code module/bert/} in TF-Hub SavedModels) and,
 * when no {@code bert_config.json} comes with it, the config derived from the tensor shapes.
 */
record CheckpointLayout(
    Path checkpoint, String prefix, BertConfig config, Map<String, TensorInfo> tensors) {
  private static final String ANCHOR = "bert/embeddings/word_embeddings";

  /** Google's checkpoints use 64-wide attention heads in every published size. */
  private static final int HEAD_SIZE = 64;

  static CheckpointLayout inspect(Path checkpoint, BertConfig declared) throws IOException {
    Map<String, TensorInfo> tensors =
        CheckpointIndex.read(Path.of(checkpoint + ".index")).tensors();
    String anchor =
        tensors.keySet().stream()
            .filter(k -> k.endsWith(ANCHOR))
            .findFirst()
            .orElseThrow(
                () ->
                    new ModelLoadException(
                        "checkpoint "
                            + checkpoint
                            + " holds no BERT word embeddings (a tensor named ..."
                            + ANCHOR
                            + "); it holds: "
                            + summary(tensors)));
    String prefix = anchor.substring(0, anchor.length() - ANCHOR.length());
    BertConfig config = declared != null ? declared : derive(checkpoint, prefix, tensors);
    return new CheckpointLayout(checkpoint, prefix, config, tensors);
  }

  /** The checkpoint key of a graph weight: BERT's own under the prefix, a head at the top level. */
  String key(String weightName) {
    return weightName.startsWith("bert/") ? prefix + weightName : weightName;
  }

  /** The stored tensor for a weight, checked against the shape the graph expects. */
  TensorInfo require(String weightName, long[] shape) {
    String key = key(weightName);
    TensorInfo info = tensors.get(key);
    if (info == null) {
      throw new ModelLoadException(
          "checkpoint "
              + checkpoint
              + " has no tensor '"
              + key
              + "' (needed by the graph); it holds: "
              + summary(tensors));
    }
    if (info.dtype() != DataType.DT_FLOAT && info.dtype() != DataType.DT_HALF) {
      throw new ModelLoadException(
          "checkpoint "
              + checkpoint
              + ": tensor '"
              + key
              + "' is "
              + info.dtype()
              + ", expected DT_FLOAT");
    }
    if (!java.util.Arrays.equals(info.shape(), shape)) {
      throw new ModelLoadException(
          "checkpoint "
              + checkpoint
              + ": tensor '"
              + key
              + "' has shape "
              + java.util.Arrays.toString(info.shape())
              + ", the config needs "
              + java.util.Arrays.toString(shape)
              + " (check -config_name / bert_config.json)");
    }
    return info;
  }

  private static BertConfig derive(Path checkpoint, String prefix, Map<String, TensorInfo> t) {
    long[] words = shape(checkpoint, t, prefix + "bert/embeddings/word_embeddings");
    long[] positions = shape(checkpoint, t, prefix + "bert/embeddings/position_embeddings");
    long[] types = shape(checkpoint, t, prefix + "bert/embeddings/token_type_embeddings");
    long[] intermediate =
        shape(checkpoint, t, prefix + "bert/encoder/layer_0/intermediate/dense/kernel");
    String layerPrefix = prefix + "bert/encoder/layer_";
    int layers =
        (int)
            t.keySet().stream()
                .filter(k -> k.startsWith(layerPrefix))
                .map(k -> k.substring(layerPrefix.length(), k.indexOf('/', layerPrefix.length())))
                .distinct()
                .count();
    int hidden = (int) words[1];
    return new BertConfig(
        (int) words[0],
        hidden,
        layers,
        hidden / HEAD_SIZE,
        (int) intermediate[1],
        "gelu",
        (int) positions[0],
        (int) types[0]);
  }

  private static long[] shape(Path checkpoint, Map<String, TensorInfo> t, String key) {
    TensorInfo info = t.get(key);
    if (info == null) {
      throw new ModelLoadException(
          "checkpoint "
              + checkpoint
              + " has no tensor '"
              + key
              + "' to derive the BERT config from, and no bert_config.json was found");
    }
    return info.shape();
  }

  /** A readable digest of a checkpoint's names: layer numbers folded into {@code layer_N}. */
  static String summary(Map<String, TensorInfo> tensors) {
    TreeSet<String> names =
        tensors.keySet().stream()
            .map(k -> k.replaceAll("layer_\\d+", "layer_N"))
            .collect(Collectors.toCollection(TreeSet::new));
    String joined = String.join(", ", names.stream().limit(40).toList());
    return names.size() > 40 ? joined + ", ... (" + names.size() + " patterns)" : joined;
  }
}

package org.bertserving.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bertserving.engine.TinyBert.Tensor;

/**
 * Writes Hugging Face {@code BertForSequenceClassification} folders (a cross-encoder with one
 * label, a classifier with several): an encoder's weights plus a seeded pooler and {@code
 * classifier} head, as {@code model.safetensors} with its {@code config.json} ({@code
 * architectures}, {@code id2label}), and as an ONNX file that ONNX Runtime runs: a real encoder's
 * export with the head appended to its graph, as PyTorch exports it (Gather of {@code [CLS]}, Gemm,
 * Tanh, Gemm with {@code transB}) and a {@code logits} output.
 */
public final class Classifiers {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Classifiers() {}

  /** A seeded pooler and head for a {@code hidden}-wide encoder, under PyTorch's names. */
  /**
   * A cross-encoder's one logit for each document against {@code query}, in document order, from
   * the engine directly: what the routes' scores are checked against.
   */
  public static float[] logits(BertEncoder crossEncoder, String query, List<String> docs) {
    List<Object> pairs = new java.util.ArrayList<>();
    docs.forEach(d -> pairs.add(Featurizer.pair(query, d)));
    float[][] rows = crossEncoder.encode(pairs, false).matrix();
    float[] out = new float[rows.length];
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length != 1) {
        throw new AssertionError("a cross-encoder answers one logit a pair, not " + rows[i].length);
      }
      out[i] = rows[i][0];
    }
    return out;
  }

  public static Map<String, Tensor> head(int hidden, int labels, long seed, String prefix) {
    Random random = new Random(seed);
    Map<String, Tensor> head = new LinkedHashMap<>();
    head.put(
        prefix + "pooler.dense.weight", gaussian(random, 1 / Math.sqrt(hidden), hidden, hidden));
    head.put(prefix + "pooler.dense.bias", gaussian(random, 0.1, hidden));
    head.put("classifier.weight", gaussian(random, 2 / Math.sqrt(hidden), labels, hidden));
    head.put("classifier.bias", gaussian(random, 0.3, labels));
    return head;
  }

  /** The tiny BERT as a sequence classifier folder with {@code vocab.txt}. */
  public static Path tiny(Path dir, List<String> labels, long seed) throws IOException {
    BertConfig config = TinyBert.CONFIG;
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    TinyBert.weights(config, seed, 0, "")
        .forEach(
            (name, t) -> {
              if (!name.startsWith("bert/pooler")) {
                String torch = "bert." + TinyHuggingFace.pytorchName(name);
                tensors.put(torch, name.endsWith("/kernel") ? TinyHuggingFace.transpose(t) : t);
              }
            });
    tensors.putAll(head(config.hiddenSize(), labels.size(), seed + 1, "bert."));
    Files.createDirectories(dir);
    Files.write(dir.resolve("vocab.txt"), TinyBert.VOCAB);
    return safetensors(dir, config, tensors, labels);
  }

  /** {@code model.safetensors} (PyTorch's {@code [out, in]} layout) and its config. */
  public static Path safetensors(
      Path dir, BertConfig config, Map<String, Tensor> tensors, List<String> labels)
      throws IOException {
    Files.createDirectories(dir);
    TinyHuggingFace.writeSafetensors(dir.resolve("model.safetensors"), tensors, "F32");
    return config(dir, config, labels);
  }

  /** {@code config.json} of a {@code BertForSequenceClassification} with these labels. */
  public static Path config(Path dir, BertConfig config, List<String> labels) throws IOException {
    Path file = dir.resolve("config.json");
    TinyHuggingFace.writeConfig(file, config);
    ObjectNode json = (ObjectNode) JSON.readTree(file.toFile());
    json.putArray("architectures").add("BertForSequenceClassification");
    ObjectNode id2label = json.putObject("id2label");
    ObjectNode label2id = json.putObject("label2id");
    for (int i = 0; i < labels.size(); i++) {
      id2label.put(String.valueOf(i), labels.get(i));
      label2id.put(labels.get(i), i);
    }
    JSON.writeValue(file.toFile(), json);
    return dir;
  }

  /**
   * The ONNX {@code source} with {@code head} (pooler and classifier, as {@link #head}) appended:
   * initializers under their own names, and the nodes from {@code hiddenOutput} (the last hidden
   * state, {@code [B, T, H]}) to a new graph output {@code logits}.
   */
  public static void onnx(Path source, Path target, String hiddenOutput, Map<String, Tensor> head)
      throws IOException {
    String pooler =
        head.keySet().stream()
            .filter(k -> k.endsWith("pooler.dense.weight"))
            .findFirst()
            .orElseThrow();
    String prefix = pooler.substring(0, pooler.length() - "pooler.dense.weight".length());
    ByteArrayOutputStream extra = new ByteArrayOutputStream();
    CodedOutputStream g = CodedOutputStream.newInstance(extra);
    g.writeByteArray(
        1, node("/pooler/Gather", "Gather", List.of(hiddenOutput, "cls_index"), "first", "axis"));
    g.writeByteArray(
        1,
        node(
            "/pooler/dense/Gemm",
            "Gemm",
            List.of("first", prefix + "pooler.dense.weight", prefix + "pooler.dense.bias"),
            "pooled_linear",
            "transB"));
    g.writeByteArray(
        1, node("/pooler/activation/Tanh", "Tanh", List.of("pooled_linear"), "pooled", null));
    g.writeByteArray(
        1,
        node(
            "/classifier/Gemm",
            "Gemm",
            List.of("pooled", "classifier.weight", "classifier.bias"),
            "logits",
            "transB"));
    g.writeByteArray(
        5,
        TinyOnnx.tensor(
            "cls_index",
            new long[0],
            7,
            ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0).array()));
    for (Map.Entry<String, Tensor> e : head.entrySet()) {
      ByteBuffer raw =
          ByteBuffer.allocate(e.getValue().values().length * 4).order(ByteOrder.LITTLE_ENDIAN);
      raw.asFloatBuffer().put(e.getValue().values());
      g.writeByteArray(5, TinyOnnx.tensor(e.getKey(), e.getValue().shape(), 1, raw.array()));
    }
    // ValueInfoProto: name 1, type 2 (TypeProto.tensor_type 1: elem_type 1 = float)
    byte[] type =
        TinyOnnx.message(t -> t.writeByteArray(1, TinyOnnx.message(x -> x.writeInt32(1, 1))));
    g.writeByteArray(
        12,
        TinyOnnx.message(
            v -> {
              v.writeString(1, "logits");
              v.writeByteArray(2, type);
            }));
    g.flush();
    byte[] model = Files.readAllBytes(source);
    CodedInputStream in = CodedInputStream.newInstance(model);
    ByteArrayOutputStream out = new ByteArrayOutputStream(model.length + extra.size() + 64);
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    while (true) {
      int start = in.getTotalBytesRead();
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      if (tag >>> 3 == 7) { // ModelProto.graph: its repeated fields extended
        ByteString graph = in.readBytes();
        o.writeBytes(7, graph.concat(ByteString.copyFrom(extra.toByteArray())));
      } else {
        in.skipField(tag);
        o.writeRawBytes(model, start, in.getTotalBytesRead() - start);
      }
    }
    o.flush();
    Files.createDirectories(target.getParent());
    Files.write(target, out.toByteArray());
  }

  /** A NodeProto with an INT attribute of 1 named {@code attr} ({@code null}: none). */
  private static byte[] node(
      String name, String op, List<String> inputs, String output, String attr) throws IOException {
    return TinyOnnx.nodeProto(
        name, op, inputs, output, attr == null ? null : TinyOnnx.intAttribute(attr, 1));
  }

  private static Tensor gaussian(Random random, double scale, long... shape) {
    long size = 1;
    for (long d : shape) {
      size *= d;
    }
    float[] values = new float[(int) size];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * scale);
    }
    return new Tensor(shape, values);
  }
}

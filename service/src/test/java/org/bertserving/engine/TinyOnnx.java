package org.bertserving.engine;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bertserving.engine.TinyBert.Tensor;

/**
 * Writes {@link TinyBert}'s weights as a PyTorch exporter does in an ONNX file: named initializers
 * for embeddings, biases and layer norms; dense weights as anonymous {@code [in, out]} operands of
 * MatMul nodes named after their module ({@code /encoder/layer.0/attention/self/query/MatMul}); the
 * pooler as a Gemm over an anonymous {@code [out, in]} weight with {@code transB}; the attention
 * scale, the gelu's Erf and the layer-norm epsilon as the nodes the engine reads them from. Only
 * what the engine reads is written: ONNX Runtime could not run it.
 */
public final class TinyOnnx {
  /** Variations that a test may ask for. */
  public enum Variant {
    EXPORT,
    FUSED_ATTENTION,
    NO_SCALE,
    INT8_EMBEDDINGS
  }

  private final List<byte[]> nodes = new ArrayList<>();
  private final List<byte[]> initializers = new ArrayList<>();
  private int anonymous = 100;

  private TinyOnnx() {}

  /** {@code dir/model.onnx} and {@code dir/tokenizer.json}. */
  public static Path writeFolder(Path dir, BertConfig config, long seed, Variant variant)
      throws IOException {
    Files.createDirectories(dir);
    TinyHuggingFace.writeTokenizerJson(dir.resolve("tokenizer.json"));
    TinyOnnx onnx = new TinyOnnx();
    for (Map.Entry<String, Tensor> e : TinyBert.weights(config, seed, 0, "").entrySet()) {
      String name = TinyHuggingFace.pytorchName(e.getKey());
      Tensor t = e.getValue();
      if (name.startsWith("pooler") && name.endsWith(".weight")) {
        String weight = onnx.anonymous("Gemm");
        onnx.initializer(weight, TinyHuggingFace.transpose(t), 1);
        onnx.node("/pooler/dense/Gemm", "Gemm", List.of("first", weight), 1L, null);
      } else if (e.getKey().endsWith("/kernel")) {
        String weight = onnx.anonymous("MatMul");
        onnx.initializer(weight, t, 1);
        String module = name.substring(0, name.length() - ".weight".length()).replace('.', '/');
        onnx.node(
            "/" + module.replace("layer/", "layer.") + "/MatMul",
            "MatMul",
            List.of("x", weight),
            null,
            null);
      } else {
        boolean int8 =
            variant == Variant.INT8_EMBEDDINGS && name.equals("embeddings.word_embeddings.weight");
        onnx.initializer(name, t, int8 ? 3 : 1);
      }
    }
    if (variant != Variant.NO_SCALE) {
      onnx.node(
          "/encoder/layer.0/attention/self/Constant_12",
          "Constant",
          List.of(),
          null,
          (float) Math.sqrt(config.headSize()));
      onnx.node(
          "/encoder/layer.0/attention/self/Div",
          "Div",
          List.of("scores", "/encoder/layer.0/attention/self/Constant_12_output_0"),
          null,
          null);
    }
    onnx.node(
        "/encoder/layer.0/intermediate/intermediate_act_fn/Erf", "Erf", List.of("h"), null, null);
    onnx.node(
        "/embeddings/LayerNorm/Constant_1",
        "Constant",
        List.of(),
        null,
        (float) config.layerNormEps());
    onnx.node(
        "/embeddings/LayerNorm/Add",
        "Add",
        List.of("variance", "/embeddings/LayerNorm/Constant_1_output_0"),
        null,
        null);
    if (variant == Variant.FUSED_ATTENTION) {
      onnx.node("Attention_0", "Attention", List.of("x"), null, null);
    }
    Path file = dir.resolve("model.onnx");
    Files.write(file, onnx.model());
    return dir;
  }

  private String anonymous(String op) {
    return "onnx::" + op + "_" + anonymous++;
  }

  /** A TensorProto: dims 1, data_type 2, name 8, raw_data 9. */
  private void initializer(String name, Tensor t, int dataType) throws IOException {
    ByteBuffer raw;
    if (dataType == 3) {
      raw = ByteBuffer.allocate(t.values().length);
      for (float v : t.values()) {
        raw.put((byte) Math.round(v * 100));
      }
    } else {
      raw = ByteBuffer.allocate(t.values().length * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (float v : t.values()) {
        raw.putFloat(v);
      }
    }
    initializers.add(tensor(name, t.shape(), dataType, raw.array()));
  }

  /** A TensorProto: dims 1, data_type 2 (1 float, 3 int8, 7 int64), name 8, raw_data 9. */
  static byte[] tensor(String name, long[] shape, int dataType, byte[] raw) throws IOException {
    return message(
        out -> {
          for (long d : shape) {
            out.writeInt64(1, d);
          }
          out.writeInt32(2, dataType);
          out.writeString(8, name);
          out.writeBytes(9, ByteString.copyFrom(raw));
        });
  }

  /**
   * A NodeProto: input 1, output 2, name 3, op_type 4, attribute 5 (transB as i, or value as t).
   */
  private void node(String name, String op, List<String> inputs, Long transB, Float value)
      throws IOException {
    byte[] attribute =
        transB != null
            ? intAttribute("transB", transB)
            : value != null
                ? message(
                    a -> {
                      a.writeString(1, "value");
                      a.writeByteArray(
                          5,
                          tensor(
                              "",
                              new long[0],
                              1,
                              ByteBuffer.allocate(4)
                                  .order(ByteOrder.LITTLE_ENDIAN)
                                  .putFloat(value)
                                  .array()));
                      a.writeInt32(20, 4);
                    })
                : null;
    nodes.add(nodeProto(name, op, inputs, name + "_output_0", attribute));
  }

  /** A NodeProto: input 1, output 2, name 3, op_type 4, attribute 5 ({@code null}: none). */
  static byte[] nodeProto(
      String name, String op, List<String> inputs, String output, byte[] attribute)
      throws IOException {
    return message(
        out -> {
          for (String input : inputs) {
            out.writeString(1, input);
          }
          out.writeString(2, output);
          out.writeString(3, name);
          out.writeString(4, op);
          if (attribute != null) {
            out.writeByteArray(5, attribute);
          }
        });
  }

  /** An INT AttributeProto: name 1, i 3, type 20 (2). */
  static byte[] intAttribute(String name, long value) throws IOException {
    return message(
        a -> {
          a.writeString(1, name);
          a.writeInt64(3, value);
          a.writeInt32(20, 2);
        });
  }

  /** A ModelProto: ir_version 1, graph 7 (GraphProto: node 1, name 2, initializer 5). */
  private byte[] model() throws IOException {
    byte[] graph =
        message(
            out -> {
              for (byte[] node : nodes) {
                out.writeByteArray(1, node);
              }
              out.writeString(2, "tiny");
              for (byte[] init : initializers) {
                out.writeByteArray(5, init);
              }
            });
    return message(
        out -> {
          out.writeInt64(1, 8);
          out.writeByteArray(7, graph);
        });
  }

  /** The fields of one protobuf message. */
  interface Body {
    void write(CodedOutputStream out) throws IOException;
  }

  /** A protobuf message, as bytes, of what {@code body} writes. */
  static byte[] message(Body body) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    body.write(out);
    out.flush();
    return bytes.toByteArray();
  }
}

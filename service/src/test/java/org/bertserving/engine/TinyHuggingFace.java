package org.bertserving.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bertserving.engine.TinyBert.Tensor;

/**
 * Writes {@link TinyBert}'s weights as a Hugging Face folder: {@code config.json}, {@code
 * model.safetensors} under PyTorch's names and layout ({@code [out, in]} dense weights), {@code
 * tokenizer.json} or {@code vocab.txt}, and optionally sentence-transformers' files. The
 * safetensors writer is this test helper's own, written from the format's description.
 */
public final class TinyHuggingFace {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What to write.
   *
   * @param prefix before every BERT tensor name, e.g. {@code "bert."} or {@code ""}
   * @param dtype {@code F32} or {@code BF16}
   * @param pooling sentence-transformers' pooling mode ({@code mean_tokens}, {@code cls_token}), or
   *     {@code null} for a plain Hugging Face folder without sentence-transformers' files
   * @param tokenizerJson a {@code tokenizer.json}, else {@code vocab.txt}
   */
  public record Layout(
      String prefix,
      String dtype,
      String pooling,
      boolean normalize,
      int maxSeqLength,
      boolean tokenizerJson) {
    public static Layout sentenceTransformers() {
      return new Layout("", "F32", "mean_tokens", true, 16, true);
    }

    public static Layout plain() {
      return new Layout("bert.", "F32", null, false, 0, false);
    }
  }

  private TinyHuggingFace() {}

  /** The folder, with the weights {@code TinyBert.weights(config, seed, 0, "")}. */
  public static Path write(Path dir, BertConfig config, long seed, Layout layout)
      throws IOException {
    Files.createDirectories(dir);
    writeConfig(dir.resolve("config.json"), config);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    TinyBert.weights(config, seed, 0, "")
        .forEach(
            (name, t) ->
                tensors.put(
                    layout.prefix() + pytorchName(name),
                    name.endsWith("/kernel") ? transpose(t) : t));
    writeSafetensors(dir.resolve("model.safetensors"), tensors, layout.dtype());
    if (layout.tokenizerJson()) {
      writeTokenizerJson(dir.resolve("tokenizer.json"));
    } else {
      Files.write(dir.resolve("vocab.txt"), TinyBert.VOCAB);
    }
    if (layout.pooling() != null) {
      ArrayNode modules = JSON.createArrayNode();
      modules
          .addObject()
          .put("idx", 0)
          .put("name", "0")
          .put("path", "")
          .put("type", "sentence_transformers.models.Transformer");
      modules
          .addObject()
          .put("idx", 1)
          .put("name", "1")
          .put("path", "1_Pooling")
          .put("type", "sentence_transformers.models.Pooling");
      if (layout.normalize()) {
        modules
            .addObject()
            .put("idx", 2)
            .put("name", "2")
            .put("path", "2_Normalize")
            .put("type", "sentence_transformers.models.Normalize");
      }
      JSON.writeValue(dir.resolve("modules.json").toFile(), modules);
      Files.createDirectories(dir.resolve("1_Pooling"));
      ObjectNode pooling =
          JSON.createObjectNode().put("word_embedding_dimension", config.hiddenSize());
      for (String mode :
          new String[] {"cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens"}) {
        pooling.put("pooling_mode_" + mode, mode.equals(layout.pooling()));
      }
      JSON.writeValue(dir.resolve("1_Pooling").resolve("config.json").toFile(), pooling);
      JSON.writeValue(
          dir.resolve("sentence_bert_config.json").toFile(),
          JSON.createObjectNode()
              .put("max_seq_length", layout.maxSeqLength())
              .put("do_lower_case", false));
    }
    return dir;
  }

  /** The weights as the engine should see them after a round trip through {@code dtype}. */
  public static Map<String, Tensor> stored(BertConfig config, long seed, String dtype) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    TinyBert.weights(config, seed, 0, "")
        .forEach(
            (name, t) -> {
              float[] v = t.values().clone();
              if (dtype.equals("BF16")) {
                for (int i = 0; i < v.length; i++) {
                  v[i] = Float.intBitsToFloat(bfloat16(v[i]) << 16);
                }
              }
              out.put(name, new Tensor(t.shape(), v));
            });
    return out;
  }

  /**
   * Google's name to PyTorch's: {@code bert/encoder/layer_0/.../kernel} to {@code
   * encoder.layer.0....weight}.
   */
  static String pytorchName(String google) {
    String path =
        google.replaceFirst("^bert/", "").replaceAll("layer_(\\d+)", "layer.$1").replace('/', '.');
    if (path.endsWith(".kernel") || path.endsWith(".gamma")) {
      return path.substring(0, path.lastIndexOf('.')) + ".weight";
    }
    if (path.endsWith(".beta")) {
      return path.substring(0, path.lastIndexOf('.')) + ".bias";
    }
    return path.endsWith(".bias") ? path : path + ".weight";
  }

  static Tensor transpose(Tensor t) {
    int rows = (int) t.shape()[0];
    int cols = (int) t.shape()[1];
    float[] v = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        v[c * rows + r] = t.values()[r * cols + c];
      }
    }
    return new Tensor(new long[] {cols, rows}, v);
  }

  static void writeConfig(Path file, BertConfig c) throws IOException {
    ObjectNode json =
        JSON.createObjectNode()
            .put("model_type", "bert")
            .put("vocab_size", c.vocabSize())
            .put("hidden_size", c.hiddenSize())
            .put("num_hidden_layers", c.numHiddenLayers())
            .put("num_attention_heads", c.numAttentionHeads())
            .put("intermediate_size", c.intermediateSize())
            .put("hidden_act", c.hiddenAct().equals("gelu_exact") ? "gelu" : "gelu_new")
            .put("max_position_embeddings", c.maxPositionEmbeddings())
            .put("type_vocab_size", c.typeVocabSize())
            .put("layer_norm_eps", c.layerNormEps());
    json.putArray("architectures").add("BertModel");
    JSON.writeValue(file.toFile(), json);
  }

  /** 8-byte little-endian header length, the JSON header (space-padded to 8), the raw tensors. */
  static void writeSafetensors(Path file, Map<String, Tensor> tensors, String dtype)
      throws IOException {
    int width = dtype.equals("BF16") ? 2 : 4;
    ObjectNode header = JSON.createObjectNode();
    header.putObject("__metadata__").put("format", "pt");
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      ObjectNode entry = header.putObject(e.getKey()).put("dtype", dtype);
      ArrayNode shape = entry.putArray("shape");
      for (long d : e.getValue().shape()) {
        shape.add(d);
      }
      long size = (long) e.getValue().values().length * width;
      entry.putArray("data_offsets").add(offset).add(offset + size);
      offset += size;
    }
    byte[] json = JSON.writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8;
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
      out.write(json);
      out.write(" ".repeat(padded - json.length).getBytes(StandardCharsets.US_ASCII));
      for (Tensor t : tensors.values()) {
        ByteBuffer b =
            ByteBuffer.allocate(t.values().length * width).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : t.values()) {
          if (width == 2) {
            b.putShort((short) bfloat16(v));
          } else {
            b.putFloat(v);
          }
        }
        out.write(b.array());
      }
    }
  }

  /** The upper 16 bits of a float, rounded to nearest even. */
  static int bfloat16(float v) {
    int bits = Float.floatToIntBits(v);
    return (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16;
  }

  /**
   * A BERT {@code tokenizer.json} over {@link TinyBert#VOCAB}, with its own truncation to ignore.
   */
  static void writeTokenizerJson(Path file) throws IOException {
    ObjectNode json = JSON.createObjectNode().put("version", "1.0");
    json.putObject("truncation").put("max_length", 4).put("strategy", "LongestFirst");
    ArrayNode added = json.putArray("added_tokens");
    for (String special : new String[] {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
      added
          .addObject()
          .put("id", TinyBert.VOCAB.indexOf(special))
          .put("content", special)
          .put("normalized", false)
          .put("special", true);
    }
    json.putObject("normalizer")
        .put("type", "BertNormalizer")
        .put("clean_text", true)
        .put("handle_chinese_chars", true)
        .putNull("strip_accents")
        .put("lowercase", true);
    json.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
    ObjectNode post = json.putObject("post_processor").put("type", "TemplateProcessing");
    ArrayNode single = post.putArray("single");
    single.addObject().putObject("SpecialToken").put("id", "[CLS]").put("type_id", 0);
    single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    single.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 0);
    ObjectNode model =
        json.putObject("model")
            .put("type", "WordPiece")
            .put("unk_token", "[UNK]")
            .put("continuing_subword_prefix", "##")
            .put("max_input_chars_per_word", 100);
    ObjectNode vocab = model.putObject("vocab");
    for (int i = 0; i < TinyBert.VOCAB.size(); i++) {
      vocab.put(TinyBert.VOCAB.get(i), i);
    }
    JSON.writeValue(file.toFile(), json);
  }
}

package org.bertserving.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Writes a tiny BERT (random weights, a 40-word vocabulary) as a real Google checkpoint folder with
 * TensorFlow's own {@code SaveV2}, so that tests exercise the exact loading path of real models.
 * The shared helper of all tests that need a model but not its quality.
 */
public final class TinyBert {
  public static final List<String> VOCAB =
      List.of(
          "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "is", "hello", "world", "how",
          "are", "you", "i", "am", "fine", "good", "bad", "dog", "cat", "run", "##s", "##ing",
          "##ed", "sat", "on", "mat", "?", "!", ".", ",", "new", "york", "city", "big", "small",
          "red", "blue", "to", "be");

  /** 2 layers, hidden 32 in 4 heads: fast enough for every test. */
  public static final BertConfig CONFIG = new BertConfig(VOCAB.size(), 32, 2, 4, 64, "gelu", 64, 2);

  private TinyBert() {}

  /**
   * {@code n} distinct texts of three whole words of the vocabulary (no special tokens, no word
   * pieces): text {@code i} spells {@code i} in base W, W the number of those words.
   */
  public static List<String> texts(int n) {
    List<String> words =
        VOCAB.subList(5, VOCAB.size()).stream().filter(w -> !w.startsWith("##")).toList();
    int w = words.size();
    if (n > w * w * w) {
      throw new IllegalArgumentException(n + " texts asked, " + w * w * w + " distinct ones exist");
    }
    List<String> texts = new java.util.ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      texts.add(words.get(i % w) + " " + words.get((i / w) % w) + " " + words.get((i / w / w) % w));
    }
    return texts;
  }

  /**
   * Writes the tiny model's Google folder to {@code args[0]} (ops/bert-serving-page-check --tiny).
   */
  public static void main(String[] args) throws IOException {
    System.out.println(writeGoogleFolder(Path.of(args[0]), CONFIG, 42, 0));
  }

  /** A Google BERT folder: {@code bert_config.json}, {@code vocab.txt}, {@code bert_model.ckpt}. */
  public static Path writeGoogleFolder(Path dir, BertConfig config, long seed, int numLabels)
      throws IOException {
    Files.createDirectories(dir);
    config.write(dir.resolve("bert_config.json"));
    Files.write(dir.resolve("vocab.txt"), VOCAB);
    save(dir.resolve("bert_model.ckpt"), weights(config, seed, numLabels, ""));
    return dir;
  }

  /** A SavedModel-style folder: {@code variables/variables.*} under {@code module/}, no config. */
  public static Path writeSavedModelFolder(Path dir, BertConfig config, long seed)
      throws IOException {
    Files.createDirectories(dir.resolve("variables"));
    Files.createDirectories(dir.resolve("assets"));
    Files.write(dir.resolve("assets").resolve("vocab.txt"), VOCAB);
    save(dir.resolve("variables").resolve("variables"), weights(config, seed, 0, "module/"));
    return dir;
  }

  /** The weights as stored: name to (shape, values). Deterministic in {@code seed}. */
  public static Map<String, Tensor> weights(BertConfig c, long seed, int numLabels, String prefix) {
    Random random = new Random(seed);
    Map<String, Tensor> w = new LinkedHashMap<>();
    int h = c.hiddenSize();
    put(w, random, prefix + "bert/embeddings/word_embeddings", 0.5f, c.vocabSize(), h);
    put(w, random, prefix + "bert/embeddings/token_type_embeddings", 0.5f, c.typeVocabSize(), h);
    put(
        w,
        random,
        prefix + "bert/embeddings/position_embeddings",
        0.5f,
        c.maxPositionEmbeddings(),
        h);
    layerNorm(w, random, prefix + "bert/embeddings/LayerNorm", h);
    for (int i = 0; i < c.numHiddenLayers(); i++) {
      String layer = prefix + "bert/encoder/layer_" + i;
      dense(w, random, layer + "/attention/self/query", h, h);
      dense(w, random, layer + "/attention/self/key", h, h);
      dense(w, random, layer + "/attention/self/value", h, h);
      dense(w, random, layer + "/attention/output/dense", h, h);
      layerNorm(w, random, layer + "/attention/output/LayerNorm", h);
      dense(w, random, layer + "/intermediate/dense", h, c.intermediateSize());
      dense(w, random, layer + "/output/dense", c.intermediateSize(), h);
      layerNorm(w, random, layer + "/output/LayerNorm", h);
    }
    dense(w, random, prefix + "bert/pooler/dense", h, h);
    if (numLabels > 0) {
      put(w, random, "output_weights", 0.3f, numLabels, h);
      put(w, random, "output_bias", 0.3f, numLabels);
    }
    return w;
  }

  /** A stored tensor: its shape and row-major values. */
  public record Tensor(long[] shape, float[] values) {}

  private static void dense(Map<String, Tensor> w, Random r, String scope, int in, int out) {
    put(w, r, scope + "/kernel", (float) (1 / Math.sqrt(in)), in, out);
    put(w, r, scope + "/bias", 0.1f, out);
  }

  private static void layerNorm(Map<String, Tensor> w, Random r, String scope, int h) {
    put(w, r, scope + "/beta", 0.1f, h);
    Tensor gamma = put(w, r, scope + "/gamma", 0.1f, h);
    for (int i = 0; i < h; i++) {
      gamma.values()[i] += 1f;
    }
  }

  private static Tensor put(
      Map<String, Tensor> w, Random r, String name, float scale, long... shape) {
    long size = 1;
    for (long d : shape) {
      size *= d;
    }
    float[] values = new float[(int) size];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) r.nextGaussian() * scale;
    }
    Tensor t = new Tensor(shape, values);
    w.put(name, t);
    return t;
  }

  /** Writes {@code prefix.index} and {@code prefix.data-00000-of-00001} with {@code SaveV2}. */
  public static void save(Path prefix, Map<String, Tensor> tensors) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      List<Output<?>> values = new ArrayList<>();
      for (Tensor t : tensors.values()) {
        Operand<TFloat32> c =
            tf.constant(Shape.of(t.shape()), DataBuffers.of(t.values(), true, false));
        values.add(c.asOutput());
      }
      String[] names = tensors.keySet().toArray(new String[0]);
      String[] slices = new String[names.length];
      java.util.Arrays.fill(slices, "");
      var save =
          tf.scope()
              .opBuilder("SaveV2", "save")
              .addInput(tf.constant(prefix.toString()).asOutput())
              .addInput(tf.constant(NdArrays.vectorOfObjects(names)).asOutput())
              .addInput(tf.constant(NdArrays.vectorOfObjects(slices)).asOutput())
              .addInputList(values.toArray(new Output<?>[0]))
              .build();
      try (Session s = new Session(g)) {
        s.runner().addTarget(save).run();
      }
    }
  }
}

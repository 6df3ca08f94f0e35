package org.bertserving.engine.tf;

import java.util.ArrayList;
import java.util.List;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.PoolingStrategy;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Sum;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.math.Mean;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * Google's BERT ({@code modeling.py}) built in Java, with the pooling of bert-as-service on top, so
 * that only pooled rows leave the session. Every step is named like the checkpoint variable it
 * reads ({@code bert/encoder/layer_N/attention/self/query}), so the two read side by side.
 *
 * <p>The weights are variables of type {@code T} (float32, or float16 with {@code -fp16}); pooling
 * always runs in float32. Only the encoder layers that the pooling needs are built.
 */
@SuppressWarnings("unchecked")
final class BertGraph<T extends TFloating> {
  private final Ops tf;
  private final Class<T> type;
  private final BertConfig config;
  private final List<Weight<T>> weights = new ArrayList<>();
  private final java.util.Map<String, Ops> scopes = new java.util.HashMap<>();

  final Placeholder<TInt32> inputIds;
  final Placeholder<TInt32> inputMask;
  final Placeholder<TInt32> segmentIds;

  /** Position of each row's last real token, for {@code LAST_TOKEN}. */
  final Placeholder<TInt32> lastIndex;

  private final Kernels kernels;

  /** Zeros, the bias of every part but the first of a split product ({@link #partBias}). */
  private Variable<T> zeroBias;

  /** Sets {@link #zeroBias}: run once with the weights; {@code null} without split layers. */
  Operand<T> zeroes;

  /** Independent parts each encoder layer is cut into (1: none; {@link #splitLayer}). */
  private final int parts;

  final Operand<TFloat32> output;

  /**
   * A variable and the checkpoint tensors it is restored from: one, or several concatenated on the
   * last axis (the fused query/key/value projection).
   */
  record Weight<T extends TFloating>(
      List<String> sources, Variable<T> variable, long[] shape, Part part) {
    /** The shape of each source tensor: the last axis split evenly, the part's axis whole. */
    long[] sourceShape() {
      long[] s = shape.clone();
      s[s.length - 1] /= sources.size();
      if (part != null) {
        s[part.axis()] *= part.of();
      }
      return s;
    }

    /**
     * What of a source tensor (in the graph's layout) this variable holds: all of it, or its part's
     * slice.
     */
    Operand<?> of(Ops cpu, Operand<?> source) {
      if (part == null) {
        return source;
      }
      long[] full = sourceShape();
      int[] begin = new int[full.length];
      int[] size = new int[full.length];
      for (int i = 0; i < full.length; i++) {
        size[i] = (int) full[i];
      }
      size[part.axis()] = (int) (full[part.axis()] / part.of());
      begin[part.axis()] = part.index() * size[part.axis()];
      return cpu.slice(source, cpu.constant(begin), cpu.constant(size));
    }
  }

  /**
   * Part {@code index} of {@code of} equal slices of each source tensor along {@code axis}: the
   * weights of one of a layer's independent halves ({@link #splitLayer}).
   */
  record Part(int index, int of, int axis) {}

  /**
   * Which CPU kernels some of the graph's ops are written for.
   *
   * @param oneDnnLayerNorm layer norms as oneDNN's kernel ({@code _MklLayerNorm}: the CPU with
   *     TensorFlow's oneDNN ops on, and no XLA, which cannot compile it); else composed of
   *     TensorFlow's ops
   * @param eigenAttention attention's batch products and head transposes on Eigen's kernels, not
   *     oneDNN's, which TensorFlow otherwise puts in their place on the CPU ({@link #batchMatMul},
   *     {@link #transpose})
   * @param fusedProducts each product with its bias (and the feed-forward's activation) as one op,
   *     which TensorFlow's remapper makes of {@code MatMul} and {@code BiasAdd} and hands to
   *     oneDNN's inner product on the CPU; else the product alone ({@link #plainProduct}), the bias
   *     and activation after it ({@link ProductProbe} chooses)
   */
  record Kernels(boolean oneDnnLayerNorm, boolean eigenAttention, boolean fusedProducts) {}

  /**
   * @param tf ops placed on the compute device
   * @param layers pooling layers, already resolved to 0-based encoder indices
   */
  BertGraph(
      Ops tf,
      Class<T> type,
      BertConfig config,
      List<Integer> layers,
      PoolingStrategy strategy,
      int numLabels,
      Kernels kernels,
      int parts) {
    this.tf = tf;
    this.parts = parts;
    this.kernels = kernels;
    this.type = type;
    this.config = config;
    Shape matrix = Shape.of(Shape.UNKNOWN_SIZE, Shape.UNKNOWN_SIZE);
    inputIds = tf.withName("input_ids").placeholder(TInt32.class, Placeholder.shape(matrix));
    inputMask = tf.withName("input_mask").placeholder(TInt32.class, Placeholder.shape(matrix));
    segmentIds = tf.withName("segment_ids").placeholder(TInt32.class, Placeholder.shape(matrix));
    lastIndex =
        tf.withName("last_index")
            .placeholder(TInt32.class, Placeholder.shape(Shape.of(Shape.UNKNOWN_SIZE)));

    Operand<TInt32> batchAndLength = tf.shape(inputIds);
    Operand<T> x = embeddings(batchAndLength);
    Operand<TFloat32> attentionAdder = attentionAdder();
    int deepest =
        strategy.usesPooler()
            ? config.numHiddenLayers() - 1
            : layers.stream().mapToInt(Integer::intValue).max().orElseThrow();
    List<Operand<T>> encoderLayers = new ArrayList<>();
    List<Operand<T>> copies = List.of(x); // of each layer's output, one a chain when split
    for (int i = 0; i <= deepest; i++) {
      copies =
          parts > 1
              ? splitLayer(i, copies, attentionAdder, batchAndLength)
              : List.of(encoderLayer(i, copies.get(0), attentionAdder, batchAndLength));
      encoderLayers.add(copies.get(0));
    }
    Operand<TFloat32> pooled =
        strategy.usesPooler()
            ? head(pooler(encoderLayers.get(deepest), batchAndLength), strategy, numLabels)
            : pool(layers.stream().map(encoderLayers::get).toList(), strategy, batchAndLength);
    output = tf.withName("final_encodes").identity(pooled);
  }

  List<Weight<T>> weights() {
    return weights;
  }

  private Variable<T> weight(String name, long... shape) {
    return weight(name, List.of(name), shape);
  }

  private Variable<T> weight(String name, List<String> sources, long... shape) {
    return weight(name, sources, null, shape);
  }

  private Variable<T> weight(String name, List<String> sources, Part part, long... shape) {
    int slash = name.lastIndexOf('/');
    Ops parent = slash < 0 ? tf : scope(name.substring(0, slash));
    Variable<T> v = parent.withName(name.substring(slash + 1)).variable(Shape.of(shape), type);
    weights.add(new Weight<>(sources, v, shape, part));
    return v;
  }

  // ---- embeddings ---------------------------------------------------------------------------

  private Operand<T> embeddings(Operand<TInt32> batchAndLength) {
    int h = config.hiddenSize();
    Ops s = scope("bert/embeddings");
    Variable<T> words = weight("bert/embeddings/word_embeddings", config.vocabSize(), h);
    Variable<T> types = weight("bert/embeddings/token_type_embeddings", config.typeVocabSize(), h);
    Variable<T> positions =
        weight("bert/embeddings/position_embeddings", config.maxPositionEmbeddings(), h);
    Operand<TInt32> axis0 = s.constant(0);
    Operand<T> sum =
        s.math.add(
            s.gather(words, s.reshape(inputIds, s.constant(new int[] {-1})), axis0),
            s.gather(types, s.reshape(segmentIds, s.constant(new int[] {-1})), axis0));
    // [B*T, H] + [T, H] broadcast over the batch: reshape to [B, T, H] and back
    Operand<TInt32> seqLen =
        s.slice(batchAndLength, s.constant(new int[] {1}), s.constant(new int[] {1}));
    Operand<T> positionSlice =
        s.slice(
            positions,
            s.constant(new int[] {0, 0}),
            s.concat(List.of(seqLen, s.constant(new int[] {-1})), s.constant(0)));
    Operand<T> byRow =
        s.reshape(sum, s.concat(List.of(batchAndLength, s.constant(new int[] {h})), s.constant(0)));
    Operand<T> withPositions = s.math.add(byRow, positionSlice);
    return layerNorm(
        "bert/embeddings/LayerNorm", s.reshape(withPositions, s.constant(new int[] {-1, h})));
  }

  /** (1 - mask) * -10000 as {@code [B, 1, 1, T]}, added to the attention scores. */
  private Operand<TFloat32> attentionAdder() {
    Ops s = scope("bert/encoder");
    Operand<TFloat32> mask = s.dtypes.cast(inputMask, TFloat32.class);
    Operand<TFloat32> adder = s.math.mul(s.math.sub(s.constant(1f), mask), s.constant(-10000f));
    return s.expandDims(s.expandDims(adder, s.constant(1)), s.constant(1));
  }

  // ---- encoder --------------------------------------------------------------------------------

  private Operand<T> encoderLayer(
      int index, Operand<T> x, Operand<TFloat32> adder, Operand<TInt32> batchAndLength) {
    String scope = "bert/encoder/layer_" + index;
    int h = config.hiddenSize();
    int heads = config.numAttentionHeads();
    Ops s = scope(scope);

    // query, key and value in one [H, 3H] matmul: fewer, larger products run faster
    String self = scope + "/attention/self";
    Variable<T> kernel = weight(self + "/query_key_value/kernel", qkv(self, "kernel"), h, 3L * h);
    Variable<T> bias = weight(self + "/query_key_value/bias", qkv(self, "bias"), 3L * h);
    Operand<T> context =
        selfAttention(s, scope(self), x, kernel, bias, adder, batchAndLength, heads);

    Operand<T> attention =
        layerNorm(
            scope + "/attention/output/LayerNorm",
            s.math.add(dense(scope + "/attention/output/dense", context, h, h), x));
    Operand<T> intermediate =
        activation(
            s, dense(scope + "/intermediate/dense", attention, h, config.intermediateSize()));
    return layerNorm(
        scope + "/output/LayerNorm",
        s.math.add(
            dense(scope + "/output/dense", intermediate, config.intermediateSize(), h), attention));
  }

  /**
   * The checkpoint's query, key and value tensors named {@code leaf} ({@code kernel}, {@code bias})
   * under {@code self}: the sources of a fused query/key/value weight, in that order.
   */
  private static List<String> qkv(String self, String leaf) {
    return List.of(self + "/query/" + leaf, self + "/key/" + leaf, self + "/value/" + leaf);
  }

  /**
   * Self-attention of {@code heads} heads whose query, key and value are {@code x}'s product with
   * the fused {@code kernel}: the context, {@code [B*T, heads * headSize]}.
   */
  private Operand<T> selfAttention(
      Ops s,
      Ops qkvScope,
      Operand<T> x,
      Variable<T> kernel,
      Variable<T> bias,
      Operand<TFloat32> adder,
      Operand<TInt32> batchAndLength,
      int heads) {
    int headSize = config.headSize();
    Operand<TInt32> toHeads = s.constant(new int[] {0, 2, 1, 3});
    // scores and softmax in float32 even under -fp16: safer, and the CPU has no half BatchMatMul;
    // [B*T, 3 x heads x headSize] to [3, B, heads, T, headSize] in one transpose, then q, k and v
    // as its slices
    Operand<TFloat32> qkv = toFloat32(qkvScope, product(qkvScope, x, kernel, bias));
    Operand<TInt32> byHead =
        s.concat(
            List.of(batchAndLength, s.constant(new int[] {3, heads, headSize})), s.constant(0));
    List<Output<TFloat32>> qkvHeads =
        s.unstack(transpose(s, s.reshape(qkv, byHead), s.constant(new int[] {2, 0, 3, 1, 4})), 3L)
            .output();
    Operand<TFloat32> q = qkvHeads.get(0);
    Operand<TFloat32> k = qkvHeads.get(1);
    Operand<TFloat32> v = qkvHeads.get(2);
    Operand<TFloat32> scores =
        s.math.mul(batchMatMul(s, q, k, true), s.constant((float) (1.0 / Math.sqrt(headSize))));
    Operand<TFloat32> probs = s.nn.softmax(addV2(s, scores, adder));
    return s.dtypes.cast(
        s.reshape(
            transpose(s, batchMatMul(s, probs, v, false), toHeads),
            s.constant(new int[] {-1, heads * headSize})),
        type);
  }

  /**
   * The same layer as {@link #encoderLayer}, cut into {@code parts} chains that TensorFlow's
   * inter-op threads run side by side: each chain has its share of the attention heads (their
   * query, key and value columns and their rows of the output projection) and its share of the
   * feed-forward width (columns of the first product, rows of the second). At each of the layer's
   * two sums every chain adds all the chains' partial outputs to its own copy of the residual and
   * normalizes that copy itself, so the chains meet only to read each other's partial sums: one
   * text alone runs on two cores with two hand-offs between threads a layer (where a session of two
   * intra-op threads hands off every op), and no thread waits while another normalizes. Against one
   * layer norm shared by the chains, on the AMD EPYC of the README: one MiniLM text of 17 tokens
   * 2-4 % faster (11 % with {@code -bf16}), 33 tokens 1-6 % (8 %), 8 tokens 2-3 % slower (4 %).
   *
   * @param copies the layer's input, one copy or one a chain
   * @return the layer's output, one copy a chain
   */
  private List<Operand<T>> splitLayer(
      int index, List<Operand<T>> copies, Operand<TFloat32> adder, Operand<TInt32> batchAndLength) {
    String scope = "bert/encoder/layer_" + index;
    int h = config.hiddenSize();
    int heads = config.numAttentionHeads() / parts;
    int width = heads * config.headSize();
    int inner = config.intermediateSize() / parts;
    Ops s = scope(scope);
    String self = scope + "/attention/self";
    String out = scope + "/attention/output/dense";
    String up = scope + "/intermediate/dense";
    String down = scope + "/output/dense";
    List<Operand<T>> attended = new ArrayList<>();
    for (int p = 0; p < parts; p++) {
      String fused = self + "/query_key_value_" + p;
      Variable<T> kernel =
          weight(fused + "/kernel", qkv(self, "kernel"), new Part(p, parts, 1), h, 3L * width);
      Variable<T> bias =
          weight(fused + "/bias", qkv(self, "bias"), new Part(p, parts, 0), 3L * width);
      Operand<T> context =
          selfAttention(
              s,
              scope(self + "/part_" + p),
              copies.get(p % copies.size()),
              kernel,
              bias,
              adder,
              batchAndLength,
              heads);
      Variable<T> rows =
          weight(out + "/kernel_" + p, List.of(out + "/kernel"), new Part(p, parts, 0), width, h);
      attended.add(partProduct(s, p, context, rows, out + "/bias"));
    }
    List<Operand<T>> attention =
        layerNorms(scope + "/attention/output/LayerNorm", sums(s, attended, copies));
    List<Operand<T>> fed = new ArrayList<>();
    for (int p = 0; p < parts; p++) {
      Variable<T> columns =
          weight(up + "/kernel_" + p, List.of(up + "/kernel"), new Part(p, parts, 1), h, inner);
      Variable<T> bias =
          weight(up + "/bias_" + p, List.of(up + "/bias"), new Part(p, parts, 0), inner);
      Ops u = scope(up + "/part_" + p);
      Operand<T> hidden = activation(u, product(u, attention.get(p), columns, bias));
      Variable<T> rows =
          weight(down + "/kernel_" + p, List.of(down + "/kernel"), new Part(p, parts, 0), inner, h);
      fed.add(partProduct(s, p, hidden, rows, down + "/bias"));
    }
    return layerNorms(scope + "/output/LayerNorm", sums(s, fed, attention));
  }

  /**
   * One sum of all {@code partials} and a copy of the residual for each chain: {@code AddN}s marked
   * with their chain's index (an attribute of no effect), without which TensorFlow would merge them
   * into one where the residual is the same tensor (the first layer's input).
   */
  private List<Operand<T>> sums(Ops s, List<Operand<T>> partials, List<Operand<T>> residual) {
    List<Operand<T>> sums = new ArrayList<>();
    for (int p = 0; p < parts; p++) {
      List<Output<?>> terms = new ArrayList<>();
      partials.forEach(partial -> terms.add(partial.asOutput()));
      terms.add(residual.get(p % residual.size()).asOutput());
      sums.add(
          s.scope()
              .env()
              .opBuilder("AddN", s.scope().makeOpName("AddN"), s.scope())
              .addInputList(terms.toArray(Output<?>[]::new))
              .setAttr("_chain", p)
              .build()
              .<T>output(0));
    }
    return sums;
  }

  /**
   * The bias of part {@code p} of a product whose input rows are split: the whole bias for the
   * first part, zeros for the others. A product with a bias is oneDNN's fused kernel, which keeps
   * its weights in oneDNN's layout across runs; a bare {@code MatMul} is {@code _MklMatMul}, which
   * took 92 µs a half against 75 µs for the fused halves (8 tokens, MiniLM).
   */
  private Operand<T> partBias(Ops s, int p, String name) {
    int h = config.hiddenSize();
    if (p == 0) {
      return weight(name, h);
    }
    if (zeroBias == null) {
      // a variable, not a constant: grappler drops a BiasAdd of constant zeros, and with it the
      // fusion
      Ops z = scope("bert/encoder");
      zeroBias = z.withName("zero_bias").variable(Shape.of(h), type);
      zeroes = z.assign(zeroBias, z.zeros(z.constant(new int[] {h}), type));
    }
    return zeroBias;
  }

  private Operand<T> dense(String scope, Operand<T> x, int in, int out) {
    Variable<T> kernel = weight(scope + "/kernel", in, out);
    Variable<T> bias = weight(scope + "/bias", out);
    Ops s = scope(scope);
    return product(s, x, kernel, bias);
  }

  /** {@code x} times {@code kernel} plus {@code bias}. */
  private Operand<T> product(Ops s, Operand<T> x, Variable<T> kernel, Operand<T> bias) {
    Operand<T> times =
        kernels.fusedProducts() ? s.linalg.matMul(x, kernel) : plainProduct(s, x, kernel);
    return s.nn.biasAdd(times, bias);
  }

  /**
   * {@code x} times {@code kernel} as {@code BatchMatMulV3}, which neither TensorFlow's remapper
   * fuses with the bias that follows nor oneDNN's inner product runs ({@link
   * Kernels#fusedProducts}).
   */
  static <T extends TFloating> Operand<T> plainProduct(Ops s, Operand<T> x, Operand<T> kernel) {
    return batchMatMulV3(s, x, kernel, false);
  }

  /** {@code x} times {@code y} (or its transpose) as {@code BatchMatMulV3}, in {@code x}'s type. */
  private static <T extends TFloating> Operand<T> batchMatMulV3(
      Ops s, Operand<T> x, Operand<T> y, boolean adjointY) {
    DataType t = x.asOutput().dataType();
    return s.scope()
        .env()
        .opBuilder("BatchMatMulV3", s.scope().makeOpName("BatchMatMulV3"), s.scope())
        .addInput(x.asOutput())
        .addInput(y.asOutput())
        .setAttr("adj_x", false)
        .setAttr("adj_y", adjointY)
        .setAttr("Ta", t)
        .setAttr("Tb", t)
        .setAttr("Tout", t)
        .build()
        .<T>output(0);
  }

  /**
   * Part {@code p}'s product of a split product: {@code x} times its rows of the kernel, plus the
   * bias in the first part only.
   */
  private Operand<T> partProduct(Ops s, int p, Operand<T> x, Variable<T> rows, String bias) {
    if (kernels.fusedProducts()) {
      return s.nn.biasAdd(s.linalg.matMul(x, rows), partBias(s, p, bias));
    }
    return p == 0
        ? product(s, x, rows, weight(bias, config.hiddenSize()))
        : plainProduct(s, x, rows);
  }

  /**
   * Layer norm, {@code (x - mean) * (rsqrt(variance + eps) * gamma) + beta}, always in float32: in
   * half precision the variance of a 768-wide row loses its digits and epsilon 1e-12 rounds to 0
   * (cosine to float32 fell to 0.87 on BERT-Base under {@code -fp16}). On a oneDNN CPU it is
   * oneDNN's layer norm kernel, one pass instead of nine ops (TensorFlow's remapper did not fuse
   * them itself; about 9% of a MiniLM run at 32 x 35 tokens), except in sessions of one intra-op
   * thread ({@link TfBertBackend#oneDnnLayerNorm}).
   */
  private Operand<T> layerNorm(String scope, Operand<T> x) {
    return layerNorms(scope, List.of(x)).get(0);
  }

  /** Each of {@code xs} normalized by one layer norm's weights ({@link #layerNorm}). */
  private List<Operand<T>> layerNorms(String scope, List<Operand<T>> xs) {
    Variable<T> beta = weight(scope + "/beta", config.hiddenSize());
    Variable<T> gamma = weight(scope + "/gamma", config.hiddenSize());
    Ops s = scope(scope);
    return xs.stream().map(x -> normalize(s, x, gamma, beta)).toList();
  }

  private Operand<T> normalize(Ops s, Operand<T> x, Variable<T> gamma, Variable<T> beta) {
    Operand<TFloat32> x32 = toFloat32(s, x);
    if (kernels.oneDnnLayerNorm()) {
      Operand<TFloat32> normed =
          s.scope()
              .env()
              .opBuilder("_MklLayerNorm", s.scope().makeOpName("MklLayerNorm"), s.scope())
              .addInput(x32.asOutput())
              .addInput(toFloat32(s, gamma).asOutput())
              .addInput(toFloat32(s, beta).asOutput())
              .setAttr("epsilon", (float) config.layerNormEps())
              .build()
              .<TFloat32>output(0);
      return type == TFloat32.class
          ? (Operand<T>) (Operand<?>) normed
          : s.dtypes.cast(normed, type);
    }
    Operand<TInt32> lastAxis = s.constant(new int[] {1}); // x is [B*T, H]
    Operand<TFloat32> centered = s.math.sub(x32, s.math.mean(x32, lastAxis, Mean.keepDims(true)));
    Operand<TFloat32> variance =
        s.math.mean(s.math.square(centered), lastAxis, Mean.keepDims(true));
    Operand<TFloat32> scale =
        s.math.mul(
            s.math.rsqrt(addV2(s, variance, s.constant((float) config.layerNormEps()))),
            toFloat32(s, gamma));
    Operand<TFloat32> normed = addV2(s, toFloat32(s, beta), s.math.mul(centered, scale));
    return type == TFloat32.class ? (Operand<T>) (Operand<?>) normed : s.dtypes.cast(normed, type);
  }

  /**
   * {@code x} transposed by {@code perm}. With {@link Kernels#eigenAttention} the transpose runs on
   * the float32 bits seen as int32 ({@code Bitcast} copies nothing): TensorFlow hands a float
   * {@code Transpose} to oneDNN on the CPU, whose reorder cost 8.8 µs a head transpose of one
   * 8-token MiniLM text against 3.0 for Eigen's (and 1.3 for each bitcast).
   */
  private Operand<TFloat32> transpose(Ops s, Operand<TFloat32> x, Operand<TInt32> perm) {
    if (kernels.eigenAttention()) {
      return s.bitcast(s.linalg.transpose(s.bitcast(x, TInt32.class), perm), TFloat32.class);
    }
    return s.linalg.transpose(x, perm);
  }

  /**
   * {@code x} times {@code y} (or its transpose) by batch. {@code BatchMatMulV2} is the version
   * TensorFlow hands to oneDNN on the CPU (TF Java's {@code train.batchMatMul} emits {@code
   * BatchMatMulV3}, which runs on Eigen: 8.5 against 4.5 ms a MiniLM run at 32 x 35 tokens on two
   * threads). With {@link Kernels#eigenAttention} it is V3 all the same: for the heads of a few
   * rows oneDNN's call costs 8.6 µs, Eigen's 3.3 (one 8-token MiniLM text).
   */
  private Operand<TFloat32> batchMatMul(
      Ops s, Operand<TFloat32> x, Operand<TFloat32> y, boolean adjointY) {
    if (kernels.eigenAttention()) {
      return batchMatMulV3(s, x, y, adjointY);
    }
    return s.scope()
        .env()
        .opBuilder("BatchMatMulV2", s.scope().makeOpName("BatchMatMulV2"), s.scope())
        .addInput(x.asOutput())
        .addInput(y.asOutput())
        .setAttr("adj_x", false)
        .setAttr("adj_y", adjointY)
        .build()
        .<TFloat32>output(0);
  }

  /**
   * {@code AddV2}, the add TensorFlow's Python API emits (TF Java's {@code math.add} is {@code
   * Add}).
   */
  private static Operand<TFloat32> addV2(Ops s, Operand<TFloat32> a, Operand<TFloat32> b) {
    return s.scope()
        .env()
        .opBuilder("AddV2", s.scope().makeOpName("AddV2"), s.scope())
        .addInput(a.asOutput())
        .addInput(b.asOutput())
        .build()
        .<TFloat32>output(0);
  }

  private Operand<TFloat32> toFloat32(Ops s, Operand<T> x) {
    return type == TFloat32.class
        ? (Operand<TFloat32>) (Operand<?>) x
        : s.dtypes.cast(x, TFloat32.class);
  }

  /**
   * Google's tanh approximation of gelu, as in its {@code modeling.py}; or the exact erf form,
   * which PyTorch's BERT (and so every Hugging Face BERT) calls "gelu".
   */
  private Operand<T> activation(Ops s, Operand<T> x) {
    switch (config.hiddenAct()) {
      case "relu":
        return s.nn.relu(x);
      case "tanh":
        return s.math.tanh(x);
      case "gelu_exact":
        Operand<T> erf = s.math.erf(s.math.mul(x, scalar(s, (float) (1 / Math.sqrt(2)))));
        return s.math.mul(s.math.mul(x, scalar(s, 0.5f)), s.math.add(scalar(s, 1f), erf));
      default:
        // the exact op pattern of modeling.py, which TensorFlow's remapper fuses into the matmul
        Operand<T> cube = s.math.pow(x, scalar(s, 3f));
        Operand<T> inner =
            s.math.mul(
                scalar(s, (float) Math.sqrt(2 / Math.PI)),
                s.math.add(x, s.math.mul(scalar(s, 0.044715f), cube)));
        Operand<T> cdf = s.math.mul(scalar(s, 0.5f), s.math.add(scalar(s, 1f), s.math.tanh(inner)));
        return s.math.mul(x, cdf);
    }
  }

  // ---- pooler and heads -----------------------------------------------------------------------

  private Operand<TFloat32> pooler(Operand<T> last, Operand<TInt32> batchAndLength) {
    int h = config.hiddenSize();
    Ops s = scope("bert/pooler");
    Operand<T> first = s.gather(byRow(s, last, batchAndLength), s.constant(0), s.constant(1));
    return s.dtypes.cast(s.math.tanh(dense("bert/pooler/dense", first, h, h)), TFloat32.class);
  }

  private Operand<TFloat32> head(
      Operand<TFloat32> pooled, PoolingStrategy strategy, int numLabels) {
    if (!strategy.usesHead()) {
      return pooled;
    }
    int labels = strategy == PoolingStrategy.REGRESSION ? 1 : numLabels;
    Ops s = scope("head");
    // a fine-tuned classifier's head is stored at the top level of the checkpoint
    Operand<TFloat32> w =
        s.dtypes.cast(weight("output_weights", labels, config.hiddenSize()), TFloat32.class);
    Operand<TFloat32> b = s.dtypes.cast(weight("output_bias", labels), TFloat32.class);
    Operand<TFloat32> logits =
        s.nn.biasAdd(
            s.linalg.matMul(pooled, w, org.tensorflow.op.linalg.MatMul.transposeB(true)), b);
    return switch (strategy) {
      case CLASSIFICATION -> s.nn.softmax(logits);
      case REGRESSION -> s.math.sigmoid(logits);
      default -> logits; // LOGITS: the caller's API decides sigmoid, softmax or raw
    };
  }

  // ---- pooling over layers, as bert-as-service's graph.py ------------------------------------

  private Operand<TFloat32> pool(
      List<Operand<T>> layers, PoolingStrategy strategy, Operand<TInt32> batchAndLength) {
    Ops s = scope("pooling");
    List<Operand<TFloat32>> rows = new ArrayList<>();
    for (Operand<T> layer : layers) {
      rows.add(s.dtypes.cast(byRow(s, layer, batchAndLength), TFloat32.class));
    }
    Operand<TFloat32> x = rows.size() == 1 ? rows.get(0) : s.concat(rows, s.constant(-1));
    Operand<TFloat32> mask = s.dtypes.cast(inputMask, TFloat32.class);
    Operand<TFloat32> mask3 = s.expandDims(mask, s.constant(-1));
    Operand<TInt32> tokenAxis = s.constant(1);
    switch (strategy) {
      case NONE:
        return s.math.mul(x, mask3);
      case REDUCE_MEAN:
        return reduceMean(s, x, mask, mask3, tokenAxis);
      case REDUCE_MAX:
        return reduceMax(s, x, mask3, tokenAxis);
      case REDUCE_MEAN_MAX:
        return s.concat(
            List.of(reduceMean(s, x, mask, mask3, tokenAxis), reduceMax(s, x, mask3, tokenAxis)),
            s.constant(1));
      case FIRST_TOKEN:
        return s.gather(x, s.constant(0), tokenAxis);
      case LAST_TOKEN:
        Operand<TInt32> batch =
            s.slice(batchAndLength, s.constant(new int[] {0}), s.constant(new int[] {1}));
        Operand<TInt32> rowIds =
            s.range(s.constant(0), s.reshape(batch, s.constant(new int[0])), s.constant(1));
        return s.gatherNd(
            x, s.stack(List.of(rowIds, lastIndex), org.tensorflow.op.core.Stack.axis(1L)));
      default:
        throw new IllegalArgumentException(strategy + " does not pool encoder layers");
    }
  }

  private static Operand<TFloat32> reduceMean(
      Ops s,
      Operand<TFloat32> x,
      Operand<TFloat32> mask,
      Operand<TFloat32> mask3,
      Operand<TInt32> axis) {
    Operand<TFloat32> count = s.math.add(s.sum(mask, axis, Sum.keepDims(true)), s.constant(1e-10f));
    return s.math.div(s.sum(s.math.mul(x, mask3), axis), count);
  }

  private static Operand<TFloat32> reduceMax(
      Ops s, Operand<TFloat32> x, Operand<TFloat32> mask3, Operand<TInt32> axis) {
    Operand<TFloat32> penalty = s.math.mul(s.math.sub(s.constant(1f), mask3), s.constant(1e30f));
    return s.max(s.math.sub(x, penalty), axis);
  }

  /** {@code [B*T, H]} back to {@code [B, T, H]}. */
  private <U extends TFloating> Operand<U> byRow(
      Ops s, Operand<U> x, Operand<TInt32> batchAndLength) {
    return s.reshape(
        x,
        s.concat(
            List.of(batchAndLength, s.constant(new int[] {config.hiddenSize()})), s.constant(0)));
  }

  /** Ops under a name path such as {@code bert/encoder/layer_0}, each scope made once. */
  private Ops scope(String path) {
    Ops cached = scopes.get(path);
    if (cached == null) {
      int slash = path.lastIndexOf('/');
      Ops parent = slash < 0 ? tf : scope(path.substring(0, slash));
      cached = parent.withSubScope(path.substring(slash + 1));
      scopes.put(path, cached);
    }
    return cached;
  }

  private Operand<T> scalar(Ops s, float value) {
    return s.constant(type, value);
  }
}

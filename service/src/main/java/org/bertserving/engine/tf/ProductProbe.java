package org.bertserving.engine.tf;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.ProductKernel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TFloating;

/**
 * Times oneDNN's two kernels for the encoder's products on this machine, once per process for each
 * shape, type and thread count: the fused inner product (product, bias and activation in one op)
 * and the plain matrix multiply with the bias after it ({@link ProductKernel}). Neither wins on
 * every CPU. On the AMD EPYC (Zen 5, Firecracker guest) of the README, the inner product ran
 * float32 products 2.5-3.5 times slower than the matrix multiply at every size from 11 x 384 x 768
 * to 1280 x 768 x 3072 (27-55 GFLOP/s against 52-188), while on the Zen 4 of earlier sessions it
 * was the faster by about a fifth; bfloat16 ran both alike.
 */
final class ProductProbe {
  private static final Logger LOG = LoggerFactory.getLogger(ProductProbe.class);

  /**
   * What was measured per shape, type and threads, by the first session that asked; {@code null}
   * timings where the plain kernel could not run.
   */
  private static final Map<Key, Timing> MEASURED = new ConcurrentHashMap<>();

  /** The bfloat16 probes already warned of in this process. */
  private static final Set<Key> ADVISED = ConcurrentHashMap.newKeySet();

  /** Runs of each kernel a round; rounds alternate the kernels, the best round counts. */
  private static final int RUNS = 20;

  private static final int ROUNDS = 5;

  record Key(DataType type, int in, int out, int threads, int rows) {}

  /**
   * How much faster the plain kernel must run to be kept: where the two are close the fused one, as
   * TensorFlow's own graphs run, stays (bfloat16 here: 206-297 µs fused against 226-291 plain, the
   * winner changing between starts).
   */
  static final double PLAIN_MARGIN = 1.1;

  /** What one probe measured: microseconds a run of each kernel. */
  record Timing(double fusedMicros, double plainMicros) {
    /** Fused unless plain runs {@link #PLAIN_MARGIN} times faster (or failed: NaN). */
    boolean keepsFused() {
      return !(plainMicros * PLAIN_MARGIN < fusedMicros);
    }

    /** Microseconds a run of the kernel kept. */
    double keptMicros() {
      return keepsFused() ? fusedMicros : plainMicros;
    }
  }

  private ProductProbe() {}

  /**
   * Whether a session of {@code settings} runs fused products: as the settings say, or, for {@link
   * ProductKernel#MEASURED}, the plain kernel where it ran the model's feed-forward product 10 %
   * faster on this machine, else the fused one. The GPU, XLA, float16 ({@code -fp16}, whose plain
   * product the CPU lacks) and TensorFlow without its oneDNN ops run fused products.
   */
  static boolean fused(EngineSettings settings, BertConfig config) {
    if (settings.deviceId() >= 0
        || settings.xla()
        || settings.fp16()
        || !TfBertBackend.oneDnnOps()) {
      return true;
    }
    return switch (settings.products()) {
      case FUSED -> true;
      case PLAIN -> false;
      case MEASURED -> {
        Key key = key(settings, config);
        Timing timing = measured(key);
        if (key.type() == DataType.DT_BFLOAT16) {
          Key float32 = new Key(DataType.DT_FLOAT, key.in(), key.out(), key.threads(), key.rows());
          advise(key, timing, measured(float32));
        }
        yield timing.keepsFused();
      }
    };
  }

  /**
   * Logs {@link #bfloat16Advice}'s warning, the first time for {@code key} in this process; whether
   * it did.
   */
  static boolean advise(Key key, Timing bfloat16, Timing float32) {
    String advice = bfloat16Advice(key, bfloat16, float32);
    if (advice == null || !ADVISED.add(key)) {
      return false;
    }
    LOG.warn(advice);
    return true;
  }

  /**
   * A warning where {@code -bf16} buys little or no speed: the model's feed-forward product ({@code
   * key}, timed in bfloat16) ran on its kernel less than {@link #PLAIN_MARGIN} times as fast as in
   * float32 on float32's ({@code float32}). As on the AMD EPYC (Zen 5 guest, no AMX) of the README,
   * in one start: 1,131 µs against 1,079 for 128 rows x 384 x 1536 on 2 threads, 290 against 232
   * for 16 rows on 1; every batch of all-MiniLM-L6-v2 but one text alone ran slower with {@code
   * -bf16}. Null where bfloat16 ran clearly faster or either could not be timed.
   */
  static String bfloat16Advice(Key key, Timing bfloat16, Timing float32) {
    double b = bfloat16.keptMicros();
    double f = float32.keptMicros();
    if (!(b * PLAIN_MARGIN >= f)) {
      return null; // clearly faster, or NaN
    }
    return String.format(
        Locale.ROOT,
        "-bf16 buys little or no speed on this CPU: the feed-forward product of %d rows x %d x %d"
            + " on %d thread%s ran %.0f µs in bfloat16 against %.0f µs in float32; without -bf16"
            + " the model may serve as fast, unrounded",
        key.rows(),
        key.in(),
        key.out(),
        key.threads(),
        key.threads() == 1 ? "" : "s",
        b,
        f);
  }

  /** The probe for a session of {@code settings}: the model's feed-forward product. */
  static Key key(EngineSettings settings, BertConfig config) {
    int threads =
        settings.intraOpThreads() > 0
            ? settings.intraOpThreads()
            : Runtime.getRuntime().availableProcessors();
    // a session of one thread serves small runs, the others large ones
    return new Key(
        dataType(settings),
        config.hiddenSize(),
        config.intermediateSize(),
        threads,
        threads == 1 ? 16 : 128);
  }

  /** {@code key} timed, the first time it is asked for in this process. */
  static Timing measured(Key key) {
    return MEASURED.computeIfAbsent(key, ProductProbe::measure);
  }

  /** Whether {@code key} has been timed in this process (for the tests). */
  static boolean timed(Key key) {
    return MEASURED.containsKey(key);
  }

  private static DataType dataType(EngineSettings s) {
    return s.bf16() ? DataType.DT_BFLOAT16 : DataType.DT_FLOAT;
  }

  private static Timing measure(Key key) {
    Timing t;
    try {
      t = time(key);
    } catch (RuntimeException e) {
      LOG.info("products stay fused: the plain kernel could not be timed for {}: {}", key, e);
      return new Timing(Double.NaN, Double.NaN);
    }
    LOG.info(
        String.format(
            Locale.ROOT,
            "products of %d rows x %d x %d in %s on %d thread%s: oneDNN's inner product %.0f µs,"
                + " its matrix multiply %.0f µs a run; %s kept",
            key.rows(),
            key.in(),
            key.out(),
            key.type() == DataType.DT_BFLOAT16 ? "bfloat16" : "float32",
            key.threads(),
            key.threads() == 1 ? "" : "s",
            t.fusedMicros(),
            t.plainMicros(),
            t.keepsFused() ? "the fused inner product" : "the plain matrix multiply"));
    return t;
  }

  /** Both kernels timed on {@code key}'s product, alternating, the best of each. */
  static Timing time(Key key) {
    Class<? extends TFloating> type =
        key.type() == DataType.DT_BFLOAT16 ? TBfloat16.class : TFloat32.class;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> input =
          tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(key.rows(), key.in())));
      Operand<? extends TFloating> x = tf.dtypes.cast(input, type);
      // variables, as the model's weights are: oneDNN lays them out once and keeps them
      var w =
          tf.variable(
              tf.dtypes.cast(
                  tf.random.randomStandardNormal(
                      tf.constant(new int[] {key.in(), key.out()}), TFloat32.class),
                  type));
      var b =
          tf.variable(
              tf.dtypes.cast(
                  tf.random.randomStandardNormal(
                      tf.constant(new int[] {key.out()}), TFloat32.class),
                  type));
      Operand<?> fused = sum(tf, tf.nn.biasAdd(tf.linalg.matMul((Operand) x, w), (Operand) b));
      Operand<?> plain = sum(tf, tf.nn.biasAdd(BertGraph.plainProduct(tf, (Operand) x, w), b));
      ConfigProto config =
          ConfigProto.newBuilder()
              // threads of its own: the first session of a process otherwise sizes the inter-op
              // pool every later session shares
              .setUsePerSessionThreads(true)
              .setIntraOpParallelismThreads(key.threads())
              .setInterOpParallelismThreads(1)
              .putDeviceCount("GPU", 0)
              .build();
      RunOptions inline =
          RunOptions.newBuilder().setInterOpThreadPool(key.threads() == 1 ? -1 : 0).build();
      try (Session s = new Session(g, config);
          TFloat32 in = TFloat32.tensorOf(Shape.of(key.rows(), key.in()))) {
        s.initialize();
        double bestFused = Double.MAX_VALUE;
        double bestPlain = Double.MAX_VALUE;
        for (int round = 0; round < ROUNDS; round++) {
          bestFused = Math.min(bestFused, micros(s, input, in, fused, inline));
          bestPlain = Math.min(bestPlain, micros(s, input, in, plain, inline));
        }
        return new Timing(bestFused, bestPlain);
      }
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Operand<?> sum(Ops tf, Operand<?> y) {
    return tf.sum(
        (Operand) tf.dtypes.cast((Operand) y, TFloat32.class), tf.constant(new int[] {0, 1}));
  }

  /** Microseconds a run of {@code fetch}, over {@link #RUNS} runs after one. */
  private static double micros(
      Session s, Placeholder<TFloat32> input, TFloat32 in, Operand<?> fetch, RunOptions options) {
    s.runner().feed(input, in).fetch(fetch).setOptions(options).run().close();
    long start = System.nanoTime();
    for (int i = 0; i < RUNS; i++) {
      s.runner().feed(input, in).fetch(fetch).setOptions(options).run().close();
    }
    return (System.nanoTime() - start) / 1e3 / RUNS;
  }
}

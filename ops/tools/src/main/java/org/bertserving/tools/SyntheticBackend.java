package org.bertserving.tools;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.ModelBackend;
import org.bertserving.engine.ModelFiles;
import org.bertserving.engine.ModelLoadException;

/**
 * A simulated GPU behind {@link ModelBackend}, for measuring what the serving path itself costs
 * (ops/bert-serving-benchmark-cluster): a worker node opens it instead of TensorFlow with {@code
 * -Dbert-serving.engine.backend=org.bertserving.tools.SyntheticBackend}. It never ships in the
 * service jar.
 *
 * <p>Each run takes the time a GPU would: {@link Timing#runOverheadNanos} plus {@link
 * Timing#tokenNanos} per token of the run as padded (rows x its longest row), spent waiting
 * (parked, not spinning), so the worker's CPU stays free and everything its JVM spends is the
 * serving path's. The defaults (1 ms a run, 2.4 µs a token) make one card do about 10,000 rows/s at
 * full batches of 256 rows x 40 tokens (1 ms + 24.6 ms a run); system properties {@value
 * #RUN_OVERHEAD} and {@value #TOKEN_NANOS} on the worker's JVM change them.
 *
 * <p>The vectors are a function of the row's token ids alone ({@link #vector}), {@code hidden_size}
 * wide as the model folder's {@code bert_config.json} says (768 for BERT-Base), so a client that
 * tokenizes its texts itself can check that every row came back to the right request at the right
 * index. The folder needs only that config, {@code vocab.txt} (the worker's real tokenizer runs on
 * it) and a {@code bert_model.ckpt.index}, which is never read.
 */
public final class SyntheticBackend implements ModelBackend.Opener {
  /** Microseconds every run takes whatever its size (a kernel launch, the copies). */
  public static final String RUN_OVERHEAD = "bert-serving.synthetic.run-overhead-micros";

  /** Nanoseconds per token of a run, rows x padded length. */
  public static final String TOKEN_NANOS = "bert-serving.synthetic.token-nanos";

  /** Opened by a worker through {@code bert-serving.engine.backend}. */
  public SyntheticBackend() {}

  @Override
  public ModelBackend open(ModelFiles files, BertConfig declared, EngineSettings settings) {
    if (declared == null) {
      throw new ModelLoadException(
          "the synthetic backend takes its vector width from the model folder's bert_config.json"
              + " (hidden_size); "
              + files.modelDir()
              + " has none");
    }
    if (settings.poolingStrategy().isTokenLevel()) {
      throw new ModelLoadException(
          "the synthetic backend returns pooled vectors only, not -pooling_strategy "
              + settings.poolingStrategy());
    }
    return new Gpu(declared, Timing.fromSystemProperties());
  }

  /** What a run costs on the simulated card. */
  public record Timing(long runOverheadNanos, long tokenNanos) {
    /** About 10,000 rows/s at 256 rows x 40 tokens. */
    public static final Timing DEFAULT = new Timing(1_000_000, 2_400);

    /** No time at all: the vectors only (the benchmark's own expected values). */
    public static final Timing NONE = new Timing(0, 0);

    /** The time one run of {@code rows} rows padded to {@code length} tokens takes. */
    public long nanos(int rows, int length) {
      return runOverheadNanos + (long) rows * length * tokenNanos;
    }

    /** Rows per second at full runs of {@code rows} x {@code length}. */
    public double rowsPerSecond(int rows, int length) {
      return rows / (nanos(rows, length) / 1e9);
    }

    static Timing fromSystemProperties() {
      return new Timing(
          Long.getLong(RUN_OVERHEAD, DEFAULT.runOverheadNanos / 1000) * 1000,
          Long.getLong(TOKEN_NANOS, DEFAULT.tokenNanos));
    }

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "%.0f µs a run + %.2f µs a token (%.0f rows/s at 256 x 40)",
          runOverheadNanos / 1e3,
          tokenNanos / 1e3,
          rowsPerSecond(256, 40));
    }
  }

  /** The seed of a row's vector: a 64-bit hash of its token ids. */
  public static long seed(int[] inputIds) {
    long h = 0x9E3779B97F4A7C15L ^ inputIds.length;
    for (int id : inputIds) {
      h = mix(h + id);
    }
    return h;
  }

  /**
   * The vector of the row whose {@link #seed} is {@code seed}: components in [-1, 1) of 24
   * significant bits (exact in float32, so JSON, base64 and .npy all carry them unchanged).
   */
  public static float[] vector(long seed, int dim) {
    float[] v = new float[dim];
    for (int j = 0; j < dim; j++) {
      v[j] = component(seed, j);
    }
    return v;
  }

  private static float component(long seed, int j) {
    return (mix(seed + (j + 1) * 0x9E3779B97F4A7C15L) >>> 40) / (float) (1 << 23) - 1f;
  }

  /** SplitMix64's finalizer. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** One simulated card: one per worker, its runs on that worker's engine thread. */
  static final class Gpu implements ModelBackend {
    private final BertConfig config;
    private final Timing timing;
    private final Set<Long> shapes = new HashSet<>();

    Gpu(BertConfig config, Timing timing) {
      this.config = config;
      this.timing = timing;
    }

    @Override
    public BertConfig config() {
      return config;
    }

    @Override
    public float[][] run(List<InputFeatures> rows, int batch, int length) {
      long end = System.nanoTime() + timing.nanos(batch, length);
      synchronized (shapes) {
        shapes.add(((long) batch << 32) | length);
      }
      float[][] out = new float[rows.size()][];
      for (int r = 0; r < out.length; r++) {
        out[r] = vector(seed(rows.get(r).inputIds()), config.hiddenSize());
      }
      // the card computes; the host thread waits for it, as it waits on a CUDA stream
      for (long left = end - System.nanoTime(); left > 0; left = end - System.nanoTime()) {
        LockSupport.parkNanos(left);
        if (Thread.currentThread().isInterrupted()) {
          break; // parkNanos would return at once from now on: no busy loop
        }
      }
      return out;
    }

    @Override
    public int shapes() {
      synchronized (shapes) {
        return shapes.size();
      }
    }

    @Override
    public int dim() {
      return config.hiddenSize();
    }

    @Override
    public void close() {}
  }
}

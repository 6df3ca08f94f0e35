package org.bertserving.engine.tf;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.ModelBackend;
import org.bertserving.engine.ModelFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two TensorFlow sessions of one model on the CPU, each run going to the one that was faster for
 * its size at warm-up. Why: with {@code TF_ONEDNN_ASSUME_FROZEN_WEIGHTS=1} oneDNN lays each weight
 * out once, for the kernel its first run chose, and keeps it; but the kernel it picks depends on
 * the run's rows (texts x tokens): on a Zen 5 with 2 threads, 8-80 rows want one layout and fewer
 * or more another, so one session serves one of the two kinds of run from its cache and lays out
 * every weight again on every run of the other kind. One session is primed on a one-text run, the
 * other on a large one; the pair costs the model's weights twice in memory.
 */
public final class LayoutPair implements ModelBackend {
  private static final Logger LOG = LoggerFactory.getLogger(LayoutPair.class);
  private static final String FROZEN_WEIGHTS = "TF_ONEDNN_ASSUME_FROZEN_WEIGHTS";
  private static final java.util.concurrent.atomic.AtomicBoolean HINTED =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * The rows (texts x tokens) of the runs timed on both sessions at warm-up, ascending; larger runs
   * go to the large-primed session (where the layouts part, a run's own work outweighs laying the
   * weights out again: 136 rows and more were the large-primed session's on both CPUs measured).
   */
  static final int[] PROBES = {4, 8, 16, 32, 64, 128};

  /** The tokens of a probe row, at most; more rows beyond. */
  private static final int PROBE_LENGTH = 16;

  private final ModelBackend small;
  private final ModelBackend large;

  /** Per probe, whether runs of that many rows (up to the next probe) go to {@link #large}. */
  private final boolean[] toLarge = new boolean[PROBES.length];

  LayoutPair(ModelBackend small, ModelBackend large) {
    this.small = small;
    this.large = large;
  }

  /**
   * Opens the model for serving: a {@link LayoutPair} where oneDNN keeps laid-out weights ({@link
   * #applies}), else one {@link TfBertBackend}.
   */
  public static ModelBackend open(ModelFiles files, BertConfig declared, EngineSettings settings)
      throws IOException {
    TfBertBackend first = TfBertBackend.open(files, declared, settings);
    if (!applies(settings)) {
      if (oneDnnCpu(settings)
          && System.getenv(FROZEN_WEIGHTS) == null
          && HINTED.compareAndSet(false, true)) {
        LOG.info(
            "TF_ONEDNN_ASSUME_FROZEN_WEIGHTS=1 in the environment before the JVM starts makes"
                + " small runs on the CPU faster (ops/bert-serving-start sets it)");
      }
      return first;
    }
    try {
      LayoutPair pair = new LayoutPair(first, TfBertBackend.open(files, declared, settings));
      pair.prime();
      return pair;
    } catch (IOException | RuntimeException e) {
      first.close();
      throw e;
    }
  }

  /**
   * Whether two sessions pay: on the CPU with TensorFlow's oneDNN kernels, without XLA, and with
   * {@code TF_ONEDNN_ASSUME_FROZEN_WEIGHTS} on (without it, every run lays the weights out anyway).
   */
  static boolean applies(EngineSettings s) {
    return oneDnnCpu(s) && TfBertBackend.envSwitch(FROZEN_WEIGHTS, false);
  }

  /** A session on the CPU with TensorFlow's oneDNN ops, not compiled by XLA. */
  private static boolean oneDnnCpu(EngineSettings s) {
    return s.deviceId() < 0 && !s.xla() && TfBertBackend.oneDnnOps();
  }

  /**
   * Gives each session its layout with its first run, then times every probe on both and keeps the
   * faster per probe.
   */
  void prime() {
    small.run(rows(8));
    large.run(rows(256));
    StringBuilder table = new StringBuilder();
    for (int i = 0; i < PROBES.length; i++) {
      List<InputFeatures> probe = rows(PROBES[i]);
      long s = fastest(small, probe);
      long l = fastest(large, probe);
      toLarge[i] = l < s;
      table.append(String.format(" %d:%.2f/%.2f", PROBES[i], s / 1e6, l / 1e6));
    }
    LOG.info("two sessions, run by size; rows: ms small-primed/large-primed{}", table);
  }

  private static long fastest(ModelBackend session, List<InputFeatures> rows) {
    session.run(rows); // a new shape's first run pays for its kernels
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 2; i++) {
      long start = System.nanoTime();
      session.run(rows);
      best = Math.min(best, System.nanoTime() - start);
    }
    return best;
  }

  /** About {@code tokens} rows of input: texts of {@link #PROBE_LENGTH} tokens, or one shorter. */
  private static List<InputFeatures> rows(int tokens) {
    int length = Math.min(tokens, PROBE_LENGTH);
    int[] ids = new int[length];
    int[] mask = new int[length];
    java.util.Arrays.fill(mask, 1);
    InputFeatures row = new InputFeatures(ids, new int[length], mask, List.of());
    return new ArrayList<>(Collections.nCopies(Math.max(1, tokens / length), row));
  }

  /** The session for a run of {@code batch} texts of {@code length} tokens. */
  ModelBackend sessionFor(int batch, int length) {
    long rows = (long) batch * length;
    if (rows > PROBES[PROBES.length - 1]) {
      return large;
    }
    int i = 0;
    while (i + 1 < PROBES.length && PROBES[i + 1] <= rows) {
      i++;
    }
    return toLarge[i] ? large : small;
  }

  @Override
  public BertConfig config() {
    return small.config();
  }

  @Override
  public float[][] run(List<InputFeatures> rows) {
    int length = rows.stream().mapToInt(InputFeatures::length).max().orElse(0);
    return sessionFor(rows.size(), length).run(rows);
  }

  @Override
  public float[][] run(List<InputFeatures> rows, int batch, int length) {
    return sessionFor(batch, length).run(rows, batch, length);
  }

  @Override
  public int shapes() {
    return small.shapes() + large.shapes();
  }

  @Override
  public int dim() {
    return small.dim();
  }

  @Override
  public void close() {
    try {
      small.close();
    } finally {
      large.close();
    }
  }
}

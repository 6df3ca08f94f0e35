package org.bertserving.engine.tf;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.CpuIdle;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.ModelBackend;
import org.bertserving.engine.ModelFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Several TensorFlow sessions of one model on the CPU, each run going to the one that was fastest
 * for its size at warm-up; sessions that were fastest for no size are closed. Two reasons, both
 * measured on small runs:
 *
 * <ul>
 *   <li>With {@code TF_ONEDNN_ASSUME_FROZEN_WEIGHTS=1} oneDNN lays each weight out once, for the
 *       kernel its first run chose, and keeps it; but that kernel depends on the run's rows (texts
 *       x tokens): on a Zen 5 with 2 threads, 8-80 rows want one layout and fewer or more another.
 *       One session is primed on a one-text run, another on a large one; a run of fewer rows is
 *       padded to the one-text run's where that was faster.
 *   <li>A run of a few rows is faster on one thread than split across several: each of its hundred
 *       small kernels would wait for the other threads to wake. With {@code
 *       TF_OVERRIDE_GLOBAL_THREADPOOL=1} (each session its own threads) a third session of one
 *       thread, which runs in the caller's thread, is a candidate too; and a fourth whose layers
 *       are cut in two chains that two threads run side by side, which hands off twice a layer
 *       instead of for every op.
 * </ul>
 *
 * Each session kept holds the model's weights once more in memory.
 */
public final class SizedSessions implements ModelBackend {
  private static final Logger LOG = LoggerFactory.getLogger(SizedSessions.class);
  private static final String FROZEN_WEIGHTS = "TF_ONEDNN_ASSUME_FROZEN_WEIGHTS";
  private static final String OWN_THREADS = "TF_OVERRIDE_GLOBAL_THREADPOOL";
  private static final java.util.concurrent.atomic.AtomicBoolean HINTED =
      new java.util.concurrent.atomic.AtomicBoolean();
  private static final java.util.concurrent.atomic.AtomicBoolean POLL_HINTED =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * The rows (texts x tokens) of the runs timed on every session at warm-up, ascending; larger runs
   * go to the largest probe's session (with fused products, where the layouts part, a run's own
   * work outweighs laying the weights out again: 136 rows and more were the large-primed session's
   * on both CPUs measured before 256 and 512 were probed).
   */
  static final int[] PROBES = {4, SizedSessions.SMALL_RUN, 16, 24, 32, 48, 64, 128, 256, 512};

  /** The longest probe that is one text; larger probes are texts of {@link #PROBE_LENGTH}. */
  private static final int ONE_TEXT_PROBE = 32;

  /** The tokens of each text of a probe of several. */
  private static final int PROBE_LENGTH = 16;

  /**
   * The rows of a one-text run, which primes the small-primed, one-thread and two-part candidates.
   * Fewer rows may want the weights laid out yet another way, which every such run would do again;
   * so runs of fewer rows are padded to these where the probe of fewer was slower on every session
   * than this one on the best (all-MiniLM-L6-v2 in float32 on the AMD EPYC of the README: a
   * 3-5-token query 4.0-4.7 ms, padded 2.9 ms; with {@code -bf16} 1.3-1.4 ms as it is, 1.8 ms
   * padded).
   */
  static final int SMALL_RUN = 8;

  /**
   * The widest model offered a session of one thread. On the AMD EPYC of the README, 2 threads:
   * all-MiniLM-L6-v2 (384) ran 8-32 rows a third faster on one thread; BERT-Base (768), whose runs
   * read four times the weights a layer, ran no size faster on it, and the session that lost cost
   * its start 14 s of probes and 0.8 GB that stayed resident after it closed.
   */
  static final int ONE_THREAD_MAX_HIDDEN = 512;

  /**
   * The chains a split session cuts each layer into, each run by one of its inter-op threads. On
   * the AMD EPYC of the README (2 cores), one MiniLM text of 35 tokens took 5.9-6.6 ms on such a
   * session against 9.5-9.7 on one thread and 8.2-11.5 on a session of two intra-op threads (whose
   * runs hand every op to the other thread and wait for it to wake); the split hands off twice a
   * layer.
   */
  public static final int PARTS = 2;

  /** The rows of a large run, which primes the large-primed candidate. */
  private static final int LARGE_RUN = 256;

  /**
   * A session that may serve runs of some sizes.
   *
   * @param name as the start's log line names it
   * @param primedOn the rows of its first run, which fix its weights' layout
   */
  record Candidate(String name, ModelBackend session, int primedOn) {}

  private final List<Candidate> candidates;

  /** Per probe, the session for runs of that many rows (up to the next probe). */
  private final ModelBackend[] byProbe = new ModelBackend[PROBES.length];

  /** Whether runs of fewer than {@link #SMALL_RUN} rows are padded to them: set by the probes. */
  private boolean padSmall;

  /**
   * @param candidates the sessions to choose from, in the order of the runs they suit, smallest
   *     first
   */
  SizedSessions(List<Candidate> candidates) {
    this(candidates, null);
  }

  /**
   * @param remembered where the probes' choice for these candidates on this machine is kept, or
   *     {@code null} to measure at every start
   */
  SizedSessions(List<Candidate> candidates, SessionChoices remembered) {
    this.candidates = new ArrayList<>(candidates);
    this.remembered = remembered;
  }

  /** Where the probes' choice is kept between starts, or {@code null}. */
  private final SessionChoices remembered;

  /**
   * Opens the model for serving: {@link SizedSessions} where oneDNN keeps laid-out weights ({@link
   * #applies}), else one {@link TfBertBackend}.
   */
  public static ModelBackend open(ModelFiles files, BertConfig declared, EngineSettings settings)
      throws IOException {
    TfBertBackend first = TfBertBackend.open(files, declared, settings);
    if (!applies(settings)) {
      if (settings.sizedSessions()
          && oneDnnCpu(settings)
          && System.getenv(FROZEN_WEIGHTS) == null) {
        hintOnce(
            "TF_ONEDNN_ASSUME_FROZEN_WEIGHTS=1 and TF_OVERRIDE_GLOBAL_THREADPOOL=1 in the"
                + " environment before the JVM starts make small runs on the CPU faster");
      }
      return first;
    }
    if (oneThreadPays(settings, first.config()) && System.getenv(OWN_THREADS) == null) {
      hintOnce(
          "TF_OVERRIDE_GLOBAL_THREADPOOL=1 in the environment before the JVM starts adds a"
              + " session of one thread, faster for small runs of this model");
    }
    List<Candidate> candidates = new ArrayList<>();
    ParallelRuns parallel = null;
    try {
      if (oneThreadApplies(settings, first.config())) {
        EngineSettings one = settings.toBuilder().intraOpThreads(1).build();
        TfBertBackend oneThread = TfBertBackend.open(files, declared, one);
        candidates.add(new Candidate("one-thread", oneThread, SMALL_RUN));
        int threads =
            settings.intraOpThreads() > 0
                ? settings.intraOpThreads()
                : Runtime.getRuntime().availableProcessors();
        if (threads >= 2) {
          parallel = new ParallelRuns(oneThread, threads);
        }
        if (halvesApply(first.config(), Runtime.getRuntime().availableProcessors())) {
          EngineSettings halves = one.toBuilder().interOpThreads(PARTS).build();
          if (CpuIdle.haltsAtOnce() && POLL_HINTED.compareAndSet(false, true)) {
            LOG.info(
                "this KVM guest halts an idle vCPU without polling (cpuidle haltpoll,"
                    + " guest_halt_poll_ns=0), so each hand-off between the two-part session's"
                    + " threads waits for a vCPU to wake; as root, echo 200000 > /sys/{}"
                    + " (the driver's default) makes small runs faster",
                CpuIdle.POLL_KNOB);
          }
          candidates.add(
              new Candidate(
                  "two-part", TfBertBackend.open(files, declared, halves, PARTS), SMALL_RUN));
        }
      }
      candidates.add(new Candidate("small-primed", first, SMALL_RUN));
      candidates.add(
          new Candidate("large-primed", TfBertBackend.open(files, declared, settings), LARGE_RUN));
      if (parallel != null) {
        candidates.add(new Candidate("parallel", parallel, SMALL_RUN));
      }
      SizedSessions sessions =
          new SizedSessions(
              candidates,
              SessionChoices.dir(settings)
                  .map(
                      dir ->
                          new SessionChoices(dir, choiceKey(settings, first.config(), candidates)))
                  .orElse(null));
      sessions.prime();
      return sessions;
    } catch (IOException | RuntimeException e) {
      if (parallel != null && candidates.stream().noneMatch(c -> c.name().equals("parallel"))) {
        parallel.close();
      }
      for (Candidate c : candidates) {
        c.session().close();
      }
      if (candidates.stream().noneMatch(c -> c.session() == first)) {
        first.close();
      }
      throw e;
    }
  }

  /**
   * What the probes' choice depends on: the CPU as the workers describe it, its cores and idle
   * driver, TensorFlow's version, this build, the environment the kernels read, the model, the
   * settings (its folder, threads, dtype, kernel), the products' kernels this start measured, and
   * the candidates and probes offered.
   */
  static String choiceKey(EngineSettings settings, BertConfig model, List<Candidate> candidates) {
    EngineSettings one = settings.toBuilder().intraOpThreads(1).build();
    return String.join(
        "\n",
        "cpu " + org.bertserving.engine.GpuPlatform.cpu(),
        "cores " + Runtime.getRuntime().availableProcessors(),
        "idle " + CpuIdle.describe(),
        "tensorflow " + org.tensorflow.TensorFlow.version(),
        "code " + code(),
        "env " + kernelEnvironment(),
        "model " + model,
        "settings " + settings,
        // measured at this start too, once a process: a flip changes what the sessions run
        "fused products " + ProductProbe.fused(settings, model),
        "fused products on one thread "
            + (oneThreadApplies(settings, model) ? ProductProbe.fused(one, model) : "-"),
        "candidates " + candidates.stream().map(c -> c.name() + "@" + c.primedOn()).toList(),
        "probes " + java.util.Arrays.toString(PROBES));
  }

  /**
   * The environment TensorFlow's, oneDNN's, OpenMP's and glibc's allocator read, which changes how
   * fast each session runs.
   */
  private static String kernelEnvironment() {
    return new java.util.TreeMap<>(System.getenv())
        .entrySet().stream()
            .filter(
                e ->
                    e.getKey().startsWith("TF_")
                        || e.getKey().startsWith("ONEDNN_")
                        || e.getKey().startsWith("DNNL_")
                        || e.getKey().startsWith("OMP_")
                        || e.getKey().startsWith("KMP_")
                        || e.getKey().startsWith("MALLOC_")
                        || e.getKey().equals("LD_PRELOAD"))
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(java.util.stream.Collectors.joining(" "));
  }

  /** This build of the engine: its jar (or classes folder) and when it was built. */
  private static String code() {
    try {
      java.nio.file.Path where =
          java.nio.file.Path.of(
              SizedSessions.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return where + " " + java.nio.file.Files.getLastModifiedTime(where);
    } catch (Exception e) { // no code source to read: the version alone
      return String.valueOf(SizedSessions.class.getPackage().getImplementationVersion());
    }
  }

  /** Logs {@code hint} (and where it is set), the first hint of this process only. */
  private static void hintOnce(String hint) {
    if (HINTED.compareAndSet(false, true)) {
      LOG.info("{} (ops/bert-serving-start sets them)", hint);
    }
  }

  /**
   * Whether several sessions pay, and are not turned off ({@link EngineSettings#sizedSessions}): on
   * the CPU with TensorFlow's oneDNN kernels, without XLA, and with {@code
   * TF_ONEDNN_ASSUME_FROZEN_WEIGHTS} on (without it, every run lays the weights out anyway).
   */
  static boolean applies(EngineSettings s) {
    return s.sizedSessions() && oneDnnCpu(s) && TfBertBackend.envSwitch(FROZEN_WEIGHTS, false);
  }

  /**
   * Whether a session of one thread is a candidate: for a model of at most {@link
   * #ONE_THREAD_MAX_HIDDEN} hidden units, when each session has threads of its own ({@code
   * TF_OVERRIDE_GLOBAL_THREADPOOL}; else the first session's thread count is every session's) and
   * the others have more than one.
   */
  static boolean oneThreadApplies(EngineSettings s, BertConfig model) {
    return oneThreadPays(s, model) && TfBertBackend.envSwitch(OWN_THREADS, false);
  }

  /**
   * Whether a session of split layers ({@link #PARTS} chains, one thread each) is a candidate too:
   * the model's heads and feed-forward width divide evenly, and the CPU has a core for each chain.
   *
   * @param cores the CPU's
   */
  static boolean halvesApply(BertConfig model, int cores) {
    return model.numAttentionHeads() % PARTS == 0
        && model.intermediateSize() % PARTS == 0
        && cores >= PARTS;
  }

  /** A model small enough, and sessions of more than one thread otherwise. */
  private static boolean oneThreadPays(EngineSettings s, BertConfig model) {
    int threads =
        s.intraOpThreads() > 0 ? s.intraOpThreads() : Runtime.getRuntime().availableProcessors();
    return threads > 1 && model.hiddenSize() <= ONE_THREAD_MAX_HIDDEN;
  }

  /** A session on the CPU with TensorFlow's oneDNN ops, not compiled by XLA. */
  private static boolean oneDnnCpu(EngineSettings s) {
    return s.deviceId() < 0 && !s.xla() && TfBertBackend.oneDnnOps();
  }

  /**
   * Gives each session its layout with its first run, times every probe on each and keeps the
   * fastest per probe, then closes the sessions no probe chose (the largest probe's serves larger
   * runs).
   */
  void prime() {
    for (Candidate c : candidates) {
      c.session().run(rows(c.primedOn()));
    }
    List<String> names = candidates.stream().map(Candidate::name).toList();
    var kept =
        remembered == null
            ? java.util.Optional.<SessionChoices.Choice>empty()
            : remembered.read(names, PROBES.length);
    SessionChoices.Choice choice = kept.orElseGet(() -> measure(names));
    if (kept.isEmpty() && remembered != null) {
      remembered.write(choice);
    }
    for (int i = 0; i < PROBES.length; i++) {
      byProbe[i] = candidates.get(choice.chosen()[i]).session();
    }
    padSmall = choice.padSmall();
    if (padSmall) {
      byProbe[0] = byProbe[1];
    }
    List<ModelBackend> used = inUse(List.of(byProbe));
    candidates.removeIf(
        c -> {
          boolean unused = !used.contains(c.session());
          if (unused) {
            c.session().close();
          }
          return unused;
        });
    LOG.info(
        "sessions by run size{}; rows: ms {}{}; kept {}{}",
        kept.isPresent()
            ? " as measured at an earlier start on this machine ("
                + remembered.file()
                + "; delete it to measure again)"
            : "",
        String.join("/", names),
        choice.table(),
        candidates.stream().map(Candidate::name).toList(),
        padSmall ? "; runs of fewer than " + SMALL_RUN + " rows padded to " + SMALL_RUN : "");
  }

  /** Every probe timed on every candidate, and the choice they make. */
  private SessionChoices.Choice measure(List<String> names) {
    StringBuilder table = new StringBuilder();
    long[][] typical = new long[PROBES.length][];
    for (int pass = 0; pass < PROBE_PASSES; pass++) {
      for (int i = 0; i < PROBES.length; i++) {
        long[] nanos = typical(rows(PROBES[i]), pass == 0);
        for (int k = 0; pass > 0 && k < nanos.length; k++) {
          nanos[k] = Math.min(nanos[k], typical[i][k]);
        }
        typical[i] = nanos;
      }
    }
    for (int i = 0; i < PROBES.length; i++) {
      table.append(' ').append(PROBES[i]).append(':');
      for (int k = 0; k < candidates.size(); k++) {
        table.append(
            String.format(java.util.Locale.ROOT, k == 0 ? "%.2f" : "/%.2f", typical[i][k] / 1e6));
      }
    }
    int[] chosen = choose(typical);
    // PROBES[1] is SMALL_RUN: padded to it, a smaller run takes what that probe took
    boolean pad = typical[0][chosen[0]] > typical[1][chosen[1]];
    return new SessionChoices.Choice(names, chosen, pad, table.toString());
  }

  /**
   * The sessions in use: those the probes chose, and the session each of those that are {@link
   * ParallelRuns} runs on.
   */
  static List<ModelBackend> inUse(List<ModelBackend> chosen) {
    List<ModelBackend> used = new ArrayList<>(chosen);
    for (ModelBackend u : List.copyOf(used)) {
      if (u instanceof ParallelRuns p) {
        used.add(p.session());
      }
    }
    return used;
  }

  /**
   * The candidate each probe's runs go to, from each probe's typical time on each candidate ({@code
   * [probe][candidate]}). The first probe (fewer rows than a one-text priming, which may want a
   * layout of their own) takes its fastest. From the second on, the candidates are taken to be
   * offered in the order of the runs they suit, smallest first: the choice is no earlier candidate
   * than a smaller probe's, the one whose times summed over the probes, each relative to the
   * probe's fastest, are the least. So one probe slowed by a burst of noise on a shared machine no
   * longer gives its size to a session its neighbours both lost on (a start measured on the AMD
   * EPYC of the README gave runs of 16-23 and 32-47 rows to the one-thread session, 7.4 against 9.2
   * ms and 8.8 against 8.9, between sizes the two-part session won by 2-40 %).
   */
  static int[] choose(long[][] typical) {
    int probes = typical.length;
    int n = typical[0].length;
    int[] chosen = new int[probes];
    chosen[0] = fastest(typical[0]);
    // cost[i][k]: the least summed ratio of probes i.. when probe i takes candidate k or later
    double[][] cost = new double[probes + 1][n + 1];
    int[][] take = new int[probes][n];
    for (int i = probes - 1; i >= 1; i--) {
      double best = typical[i][fastest(typical[i])];
      cost[i][n] = Double.MAX_VALUE;
      for (int k = n - 1; k >= 0; k--) {
        double here = typical[i][k] / best + cost[i + 1][k];
        if (here <= cost[i][k + 1]) {
          cost[i][k] = here;
          take[i][k] = k;
        } else {
          cost[i][k] = cost[i][k + 1];
          take[i][k] = take[i][k + 1];
        }
      }
    }
    int from = 0;
    for (int i = 1; i < probes; i++) {
      chosen[i] = take[i][from];
      from = chosen[i];
    }
    return chosen;
  }

  private static int fastest(long[] nanos) {
    int best = 0;
    for (int k = 1; k < nanos.length; k++) {
      if (nanos[k] < nanos[best]) {
        best = k;
      }
    }
    return best;
  }

  /** The runs of each session a probe's typical time is the median of, in each pass. */
  private static final int PROBE_RUNS = 3;

  /**
   * The passes over every probe; each probe keeps its faster pass's time on each session. A burst
   * of noise on a shared machine slows the session that runs on two cores more than the one that
   * runs on one (a start on the AMD EPYC of the README, in one pass of five runs, gave runs of 8-47
   * rows in bfloat16 to the one-thread session, 2.9-5.4 ms against 3.1-5.7, and its one text at a
   * time came out 153 rows/s against 202-218 in the other starts of the session); a second pass a
   * second or two later seldom meets the same burst.
   */
  private static final int PROBE_PASSES = 2;

  /**
   * The typical time of a run of {@code rows} on each candidate: the median of {@link #PROBE_RUNS},
   * after one more where the shape is new to the sessions. The candidates take turns, run by run,
   * so that a burst of noise on a shared machine slows them alike (timed one candidate after the
   * other, a burst during one candidate's runs chose the slower session for a whole size in one
   * start of four).
   */
  private long[] typical(List<InputFeatures> rows, boolean newShape) {
    for (int k = 0; newShape && k < candidates.size(); k++) {
      candidates.get(k).session().run(rows); // a new shape's first run pays for its kernels
    }
    long[][] nanos = new long[candidates.size()][PROBE_RUNS];
    for (int r = 0; r < PROBE_RUNS; r++) {
      for (int k = 0; k < candidates.size(); k++) {
        long start = System.nanoTime();
        candidates.get(k).session().run(rows);
        nanos[k][r] = System.nanoTime() - start;
      }
    }
    long[] typical = new long[candidates.size()];
    for (int k = 0; k < typical.length; k++) {
      java.util.Arrays.sort(nanos[k]);
      typical[k] = nanos[k][PROBE_RUNS / 2];
    }
    return typical;
  }

  /**
   * {@code tokens} rows of input: one text of that many tokens up to {@link #ONE_TEXT_PROBE} (one
   * query), else texts of {@link #PROBE_LENGTH} tokens (a batch).
   */
  private static List<InputFeatures> rows(int tokens) {
    int length = tokens <= ONE_TEXT_PROBE ? tokens : PROBE_LENGTH;
    int[] ids = new int[length];
    int[] mask = new int[length];
    java.util.Arrays.fill(mask, 1);
    InputFeatures row = new InputFeatures(ids, new int[length], mask, List.of());
    return new ArrayList<>(Collections.nCopies(Math.max(1, tokens / length), row));
  }

  /** The session for a run of {@code batch} texts of {@code length} tokens. */
  ModelBackend sessionFor(int batch, int length) {
    long rows = (long) batch * length; // past the largest probe: the largest probe's session
    int i = 0;
    while (i + 1 < PROBES.length && PROBES[i + 1] <= rows) {
      i++;
    }
    return byProbe[i];
  }

  /** The names of the sessions kept, in the order they were offered. */
  List<String> kept() {
    return candidates.stream().map(Candidate::name).toList();
  }

  @Override
  public BertConfig config() {
    return candidates.get(0).session().config();
  }

  /**
   * Runs on the session chosen for the run's size, a run of fewer than {@link #SMALL_RUN} rows
   * padded to them with masked tokens where the probes said so (masked tokens change no vector, as
   * in any batch of texts of unequal lengths).
   */
  @Override
  public float[][] run(List<InputFeatures> rows, int batch, int length) {
    int padded =
        padSmall && batch > 0 && (long) batch * length < SMALL_RUN
            ? Math.max(length, (SMALL_RUN + batch - 1) / batch)
            : length;
    return sessionFor(batch, padded).run(rows, batch, padded);
  }

  @Override
  public int shapes() {
    return candidates.stream().mapToInt(c -> c.session().shapes()).sum();
  }

  @Override
  public int dim() {
    return candidates.get(0).session().dim();
  }

  @Override
  public void close() {
    RuntimeException failure = null;
    // the last first: parallel runs stop before the session they run on closes
    for (int i = candidates.size() - 1; i >= 0; i--) {
      Candidate c = candidates.get(i);
      try {
        c.session().close();
      } catch (RuntimeException e) {
        failure = failure == null ? e : failure;
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}

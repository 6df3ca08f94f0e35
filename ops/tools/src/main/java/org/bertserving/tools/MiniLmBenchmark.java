package org.bertserving.tools;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.bertserving.client.BertClient;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.ProductKernel;

/**
 * all-MiniLM-L6-v2 in this engine (ONNX weights imported into the TensorFlow graph) against the
 * alternative a Java user has in process, LangChain4j's ONNX Runtime embedder of the same model:
 * same texts, same JVM, taking turns. Prints Markdown tables: rows/s at batch 1, 8, 32 and 256 of
 * 10-60-token texts; one short query's p50 and p99 in process and through HTTP (a node in a JVM of
 * its own on loopback, the Java SDK), in float32 and with {@code -bf16} where the CPU has it; how
 * close the two vectors are; the CPU in the header. The script runs {@link ThreadsTable} first, in
 * a JVM of its own.
 *
 * <pre>ops/bert-serving-benchmark-minilm [--seconds S] [--products measured|fused|plain]</pre>
 */
public final class MiniLmBenchmark {
  private static final String[] WORDS =
      ("the a of to and in is it that for on with as was by at "
              + "from this be are or an have not they which one you were all we can her has there been if "
              + "more when will would who so no out up into do than time only new some could these two may "
              + "first then any like my now over such our man me even most made after also did many before "
              + "must through back years where much your way well down should because each just those "
              + "people how too little state good very make world still own see men work long get here "
              + "between both life being under never day same another know while last might us great old "
              + "year off come since against go came right used take three search engine vector sentence "
              + "embedding model cluster service request latency throughput batch token cooking rice pasta "
              + "weather travel music science history football river mountain city library computer")
          .split(" ");

  private MiniLmBenchmark() {}

  public static void main(String[] args) throws Exception {
    MiniLmArgs options = MiniLmArgs.parseOrExit(args);
    double seconds = options.seconds();
    ProductKernel products = options.products();
    try (BertEncoder engine = engine(false, products);
        BertEncoder engineBf16 =
            org.bertserving.engine.GpuPlatform.cpuBf16() ? engine(true, products) : null) {
      List<String> texts = texts(engine, 2048);
      // as a worker does at its start: each one-text length run once, then the planner's cost
      // model measured on this machine
      engine.warmUp();
      engine.calibrate(16, 64);
      if (engineBf16 != null) {
        engineBf16.warmUp();
        engineBf16.calibrate(16, 64);
      }
      Function<List<String>, float[][]> ours = engine::encode;
      Function<List<String>, float[][]> oursBf16 = engineBf16 == null ? null : engineBf16::encode;
      Function<List<String>, float[][]> theirs = langchain4j();
      double minCosine =
          Vectors.minCosine(ours.apply(texts.subList(0, 64)), theirs.apply(texts.subList(0, 64)));

      System.out.printf(
          Locale.ROOT,
          "# all-MiniLM-L6-v2: this engine vs LangChain4j (ONNX Runtime)%n%n"
              + "%s, %d cores, %s, Java %s, TF_ONEDNN_ASSUME_FROZEN_WEIGHTS=%s,"
              + " TF_OVERRIDE_GLOBAL_THREADPOOL=%s; products %s; %d texts of 10-60"
              + " tokens; %.0f s per cell, in %d turns taken by the cells of a row; min cosine between the two on 64 texts: %.6f%n%n",
          org.bertserving.engine.GpuPlatform.cpu(),
          Runtime.getRuntime().availableProcessors(),
          org.bertserving.engine.CpuIdle.describe(),
          System.getProperty("java.version"),
          System.getenv().getOrDefault("TF_ONEDNN_ASSUME_FROZEN_WEIGHTS", "(unset)"),
          System.getenv().getOrDefault("TF_OVERRIDE_GLOBAL_THREADPOOL", "(unset)"),
          products.name().toLowerCase(Locale.ROOT),
          texts.size(),
          seconds,
          TURNS,
          minCosine);
      System.out.println(
          "| batch | engine rows/s | engine -bf16 rows/s | LangChain4j rows/s | ratio | ratio -bf16 |");
      System.out.println("|---:|---:|---:|---:|---:|---:|");
      for (int batch : new int[] {1, 8, 32, 256}) {
        double[] rates =
            rowsPerSecondInTurns(Arrays.asList(ours, oursBf16, theirs), texts, batch, seconds);
        double a = rates[0];
        double h = rates[1];
        double b = rates[2];
        System.out.printf(
            Locale.ROOT,
            "| %d | %.1f | %.1f | %.1f | %.2f | %.2f |%n",
            batch,
            a,
            h,
            b,
            a / b,
            h / b);
      }
      List<String> query = List.of(ThreadsTable.QUERY);
      System.out.printf(
          Locale.ROOT,
          "%n| one short query, ms | p50 | p99 | p50 ratio to LangChain4j |%n|---|---:|---:|---:|%n");
      List<String> warmUps = new ArrayList<>();
      for (boolean bf16 :
          engineBf16 == null ? new boolean[] {false} : new boolean[] {false, true}) {
        String dtype = bf16 ? " -bf16" : "";
        Function<List<String>, float[][]> engineOfDtype = bf16 ? oursBf16 : ours;
        try (NodeProcess node = node(bf16, options.nodeProperty());
            BertClient client = client(node)) {
          Warmed warmed = warmUntilCompiled(node, () -> client.encode(query), MAX_WARM_SECONDS);
          warmUps.add(
              String.format(
                  Locale.ROOT,
                  "the node%s: %d queries in %.0f s, its JIT compilers %.1f %% of the last 2 s%s",
                  dtype,
                  warmed.queries(),
                  warmed.seconds(),
                  100 * warmed.compilingShare(),
                  warmed.compilingShare() < COMPILING_SHARE ? "" : " (still compiling: cut off)"));
          double[][] ms =
              latencyMillisInTurns(
                  List.of(
                      () -> theirs.apply(query),
                      () -> engineOfDtype.apply(query),
                      () -> client.encode(query)),
                  3 * seconds,
                  seconds);
          String[] what = {
            "LangChain4j in process (in turns with the next two rows)",
            "engine" + dtype + " in process",
            "engine" + dtype + " through HTTP (a node on loopback, the Java SDK)"
          };
          for (int i = 0; i < what.length; i++) {
            System.out.printf(
                Locale.ROOT,
                "| %s | %.2f | %.2f | %.2f |%n",
                what[i],
                ms[i][0],
                ms[i][1],
                ms[i][0] / ms[0][0]);
          }
        }
      }
      System.out.printf(
          Locale.ROOT,
          "%nEach node was queried before its turns until its JIT compilers took under %.0f %% of"
              + " 2 s: %s.%n",
          100 * COMPILING_SHARE,
          String.join("; ", warmUps));
    }
  }

  /**
   * A node's warm-up ends once its JIT compilers take less than this share of a 2 s window of
   * queries.
   */
  static final double COMPILING_SHARE = 0.03;

  /** The longest a node's warm-up lasts, compiling or not. */
  static final double MAX_WARM_SECONDS = 180;

  /** How a node's warm-up ended: the queries and seconds it took, the compilers' last share. */
  record Warmed(long queries, double seconds, double compilingShare) {}

  /**
   * Sends {@code query} until {@code node}'s JIT compilers spend less than {@link #COMPILING_SHARE}
   * of a 2 s window of queries, or for {@code maxSeconds}. A node started a moment before compiles
   * its HTTP, actor, JSON and TensorFlow call paths for thousands of queries: on the AMD EPYC
   * (family 26) of the README, C2 compiled methods of 100-280 ms each through some 9,000 queries,
   * 10-17 % of the node's CPU from the 3,000th on, and the 8-token query's p50 (hey, one at a time)
   * went from 6.7 ms over the first 1,000 to 4.9 over the third and 4.5 over the tenth. The warm-up
   * of a fixed time it replaces (15 s, some 2,500 queries) measured a node still compiling.
   */
  static Warmed warmUntilCompiled(NodeProcess node, Runnable query, double maxSeconds) {
    long start = System.nanoTime();
    long end = start + (long) (maxSeconds * 1e9);
    long queries = 0;
    while (true) {
      long compiledBefore = ProcCpu.compilerNanos(node.pid());
      long windowStart = System.nanoTime();
      do {
        query.run();
        queries++;
      } while (System.nanoTime() - windowStart < 2_000_000_000L);
      long window = System.nanoTime() - windowStart;
      // a compiler thread that ended meanwhile no longer counts: never below 0
      double share =
          Math.max(0, ProcCpu.compilerNanos(node.pid()) - compiledBefore) / (double) window;
      long now = System.nanoTime();
      if (share < COMPILING_SHARE || now >= end) {
        return new Warmed(queries, (now - start) / 1e9, share);
      }
    }
  }

  /**
   * A node of both roles serving all-MiniLM-L6-v2 on a loopback port, in a JVM of its own as a
   * service runs (sharing this one's heap, the client's and the node's garbage would pause each
   * other), started as {@code ops/bert-serving-start} starts it.
   */
  static NodeProcess node(boolean bf16, String... jvmOptions) {
    List<String> args = new ArrayList<>(List.of("-model", "all-minilm-l6-v2"));
    args.addAll(NodeProcess.loopbackFlags());
    if (bf16) {
      args.add("-bf16");
    }
    return NodeProcess.start(
        bf16 ? "minilm-bf16" : "minilm",
        NodeProcess.ownClasspath(),
        Stream.concat(Stream.of("-Xmx2g"), Arrays.stream(jvmOptions)).toList(),
        args,
        java.nio.file.Path.of("ops", "run", "minilm-benchmark"));
  }

  /** A client of {@code node}, once the node answers an encode. */
  static BertClient client(NodeProcess node) {
    BertClient client =
        BertClient.builder()
            .checkLength(false)
            .http(
                java.net.URI.create("http://127.0.0.1:" + node.ports(Duration.ofMinutes(3)).http()))
            .build();
    Waits.until(
        "a worker of " + node.name(),
        Duration.ofMinutes(3),
        () -> {
          try {
            return client.encode(List.of("ready?")).length == 1;
          } catch (org.bertserving.client.BertClientException e) {
            return false;
          }
        });
    return client;
  }

  /** all-MiniLM-L6-v2 in this engine, float32 or {@code -bf16}. */
  static BertEncoder engine(boolean bf16) throws IOException {
    return BertEncoder.load(EngineSettings.builder().model("all-minilm-l6-v2").bf16(bf16).build());
  }

  /** As {@link #engine(boolean)}, its products on {@code products}. */
  static BertEncoder engine(boolean bf16, ProductKernel products) throws IOException {
    return BertEncoder.load(
        EngineSettings.builder().model("all-minilm-l6-v2").bf16(bf16).products(products).build());
  }

  /** The same model as a Java user would run it instead: LangChain4j's ONNX Runtime embedder. */
  static Function<List<String>, float[][]> langchain4j() {
    AllMiniLmL6V2EmbeddingModel model = new AllMiniLmL6V2EmbeddingModel();
    return batch ->
        model.embedAll(batch.stream().map(TextSegment::from).toList()).content().stream()
            .map(Embedding::vector)
            .toArray(float[][]::new);
  }

  /**
   * Deterministic texts of 10 to 60 tokens ([CLS] and [SEP] included), by the model's tokenizer.
   */
  static List<String> texts(BertEncoder engine, int count) {
    Random random = new Random(42);
    List<String> texts = new ArrayList<>(count);
    while (texts.size() < count) {
      int target = 10 + random.nextInt(51);
      StringBuilder text = new StringBuilder(WORDS[random.nextInt(WORDS.length)]);
      while (length(engine, text + " x") <= target) {
        text.append(' ').append(WORDS[random.nextInt(WORDS.length)]);
      }
      texts.add(text.toString());
    }
    return texts;
  }

  private static int length(BertEncoder engine, String text) {
    return engine.featurizer().featurize(List.of(text), false).rows().get(0).length();
  }

  /** Rows per second over {@code seconds}, after one warm-up batch. */
  static double rowsPerSecond(
      Function<List<String>, float[][]> encode, List<String> texts, int batch, double seconds) {
    return rowsPerSecondInTurns(List.of(encode), texts, batch, seconds)[0];
  }

  /** Each measurement's share of its seconds in one turn: five turns each. */
  static final int TURNS = 5;

  /**
   * Rows per second of each of {@code encoders} (NaN for a null one) at {@code batch}, after one
   * warm-up batch each, taking turns: {@link #TURNS} turns of {@code seconds / TURNS} each, every
   * round starting with the next encoder. A burst of noise on this shared machine then falls on all
   * of them alike, not on whichever ran during it; each encoder goes through the same texts in the
   * same order.
   */
  static double[] rowsPerSecondInTurns(
      List<Function<List<String>, float[][]>> encoders,
      List<String> texts,
      int batch,
      double seconds) {
    int n = encoders.size();
    long[] rows = new long[n];
    long[] nanos = new long[n];
    int[] next = new int[n];
    for (Function<List<String>, float[][]> encode : encoders) {
      if (encode != null) {
        encode.apply(texts.subList(0, batch));
      }
    }
    for (int turn = 0; turn < TURNS; turn++) {
      for (int k = 0; k < n; k++) {
        int i = (turn + k) % n;
        Function<List<String>, float[][]> encode = encoders.get(i);
        if (encode == null) {
          continue;
        }
        long start = System.nanoTime();
        long end = start + (long) (seconds / TURNS * 1e9);
        do {
          if (next[i] + batch > texts.size()) {
            next[i] = 0;
          }
          rows[i] += encode.apply(texts.subList(next[i], next[i] + batch)).length;
          next[i] += batch;
        } while (System.nanoTime() < end);
        nanos[i] += System.nanoTime() - start;
      }
    }
    double[] rates = new double[n];
    for (int i = 0; i < n; i++) {
      rates[i] = encoders.get(i) == null ? Double.NaN : rows[i] / (nanos[i] / 1e9);
    }
    return rates;
  }

  /**
   * The p50 and p99 in ms of each of {@code runs}, one call at a time: each warmed for {@code warm}
   * seconds, then all taking turns as in {@link #rowsPerSecondInTurns}, {@code seconds} in all each
   * (at least 20 calls). A server and its client answer warm only once the JIT has compiled their
   * code, which a few queries do not give: on the AMD EPYC of the README, an SDK client and a node
   * both started a moment before took 5.1 ms at p50 over their first 4 s, 3.9-4.2 ms after some
   * 1,500 queries (the benchmark warms each for three times its measured seconds).
   */
  static double[][] latencyMillisInTurns(List<Runnable> runs, double warm, double seconds) {
    int n = runs.size();
    for (Runnable run : runs) {
      long warmEnd = System.nanoTime() + (long) (warm * 1e9);
      while (System.nanoTime() < warmEnd) {
        run.run();
      }
    }
    List<List<Long>> nanos = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      nanos.add(new ArrayList<>());
    }
    for (int turn = 0; turn < TURNS; turn++) {
      for (int k = 0; k < n; k++) {
        int i = (turn + k) % n;
        long end = System.nanoTime() + (long) (seconds / TURNS * 1e9);
        while (System.nanoTime() < end || nanos.get(i).size() < 20 * (turn + 1) / TURNS) {
          long start = System.nanoTime();
          runs.get(i).run();
          nanos.get(i).add(System.nanoTime() - start);
        }
      }
    }
    double[][] ms = new double[n][];
    for (int i = 0; i < n; i++) {
      ms[i] = percentiles(nanos.get(i));
    }
    return ms;
  }

  /** The p50 and p99 in ms of {@code nanos}. */
  private static double[] percentiles(List<Long> nanos) {
    long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
    return new double[] {
      sorted[sorted.length / 2] / 1e6, sorted[(int) (sorted.length * 0.99)] / 1e6
    };
  }

  /**
   * The p50 and p99 in ms of {@code run}, one at a time for {@code seconds}, after {@code warm}.
   */
  static double[] latencyMillis(Runnable run, double warm, double seconds) {
    return latencyMillisInTurns(List.of(run), warm, seconds)[0];
  }
}

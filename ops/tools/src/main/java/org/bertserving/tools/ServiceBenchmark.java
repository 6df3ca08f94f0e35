package org.bertserving.tools;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bertserving.client.BertClient;
import org.bertserving.server.BertServer;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * bert-as-service's benchmark, on this service: for each of its dimensions ({@code max_seq_len},
 * {@code client_batch_size}, {@code num_client}, {@code max_batch_size}, {@code pooling_layer}) one
 * value changes while the others stay at the defaults. Server-side settings need a restart, so the
 * tool starts a node per server setting on loopback; clients talk to it only through the Java SDK
 * over HTTP. Prints Markdown tables (samples/s, latency p50/p99) and writes one PNG per dimension.
 *
 * <pre>ops/bert-serving-benchmark [--quick] [--targets] [--seconds S] [--out DIR] [-model_dir DIR]
 *     [-api_key KEY] [-tls_cert CERT.pem -tls_key KEY.pem]</pre>
 *
 * <p>{@code -api_key} and {@code -tls_cert}/{@code -tls_key} start the nodes as the server flags of
 * those names do, and the SDK sends the key and trusts the certificate: what a key check and HTTPS
 * cost.
 *
 * <p>{@code --targets} adds DESIGN.md's service targets as ratios: HTTP vs the engine alone at
 * batch 256, and 32 clients sending one sentence each vs one client sending batches of 256.
 */
public final class ServiceBenchmark {
  private static final String[] WORDS =
      ("the of and to in is was he for it with as his on be at by "
              + "had are but from or have an they which one you were her all she there would their we him "
              + "been has when who will more no if out so said what up its about into than them can only "
              + "other new some could time these two may then do first any my now such like our over man "
              + "me even most made after also did many before must through back years where much your way")
          .split(" ");

  private record Setting(
      int maxSeqLen,
      int clientBatchSize,
      int numClient,
      int maxBatchSize,
      int poolingLayer,
      int prefetchSize) {
    Setting(int maxSeqLen, int clientBatchSize, int numClient, int maxBatchSize, int poolingLayer) {
      this(maxSeqLen, clientBatchSize, numClient, maxBatchSize, poolingLayer, 2);
    }
  }

  private record Measured(double samplesPerSecond, double p50, double p99) {}

  private final double seconds;
  private final String modelDir;
  private final String apiKey;
  private final String tlsCert;
  private final String tlsKey;

  private ServiceBenchmark(
      double seconds, String modelDir, String apiKey, String tlsCert, String tlsKey) {
    this.seconds = seconds;
    this.modelDir = modelDir;
    this.apiKey = apiKey;
    this.tlsCert = tlsCert;
    this.tlsKey = tlsKey;
  }

  private static String flag(List<String> args, String name) {
    return args.contains(name) ? args.get(args.indexOf(name) + 1) : "";
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    List<String> a = Arrays.asList(args);
    boolean quick = a.contains("--quick");
    double seconds =
        a.contains("--seconds")
            ? Double.parseDouble(a.get(a.indexOf("--seconds") + 1))
            : quick ? 5 : 20;
    Path out = Path.of(a.contains("--out") ? a.get(a.indexOf("--out") + 1) : "ops/benchmark");
    String modelDir = flag(a, "-model_dir");
    Files.createDirectories(out);
    Setting base = new Setting(40, 64, 1, 256, -2);
    Map<String, List<Integer>> grid = new LinkedHashMap<>();
    grid.put("max_seq_len", quick ? List.of(20, 40, 80) : List.of(20, 40, 80, 160));
    grid.put("client_batch_size", quick ? List.of(1, 16, 64) : List.of(1, 4, 16, 64, 256, 1024));
    grid.put("num_client", quick ? List.of(1, 4, 8) : List.of(1, 2, 4, 8, 16, 32));
    grid.put("max_batch_size", quick ? List.of(16, 256) : List.of(8, 32, 128, 256));
    grid.put("pooling_layer", quick ? List.of(-1, -12) : List.of(-1, -2, -4, -8, -12));

    System.out.printf(
        Locale.ROOT,
        "# Service benchmark%n%n%d cores, Java %s, %s s per setting; "
            + "defaults: max_seq_len 40, client_batch_size 64, num_client 1, max_batch_size 256, "
            + "pooling_layer -2%n%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        seconds);
    ServiceBenchmark bench =
        new ServiceBenchmark(
            seconds, modelDir, flag(a, "-api_key"), flag(a, "-tls_cert"), flag(a, "-tls_key"));
    for (Map.Entry<String, List<Integer>> dimension : grid.entrySet()) {
      List<Measured> results = new ArrayList<>();
      System.out.printf(
          "## %s%n%n| %s | samples/s | p50 ms | p99 ms |%n|---:|---:|---:|---:|%n",
          dimension.getKey(), dimension.getKey());
      for (int value : dimension.getValue()) {
        Measured m = bench.run(vary(base, dimension.getKey(), value));
        results.add(m);
        System.out.printf(
            Locale.ROOT, "| %d | %.1f | %.0f | %.0f |%n", value, m.samplesPerSecond, m.p50, m.p99);
      }
      System.out.println();
      chart(
          out.resolve(dimension.getKey() + ".png"),
          dimension.getKey(),
          dimension.getValue(),
          results);
    }
    if (a.contains("--targets")) {
      bench.targets(base);
    }
    System.out.println("charts: " + out.toAbsolutePath().normalize());
    System.exit(0);
  }

  /** DESIGN.md's service targets as ratios measured in this run. */
  private void targets(Setting base) throws Exception {
    double engine;
    try (org.bertserving.engine.BertEncoder encoder =
        org.bertserving.engine.BertEncoder.load(
            org.bertserving.engine.EngineSettings.builder()
                .maxSeqLen(base.maxSeqLen)
                .modelDir(modelDir.isBlank() ? null : Path.of(modelDir))
                .build())) {
      List<String> batch = sentences(256, base.maxSeqLen, new Random(1));
      encoder.encode(batch);
      int runs = 0;
      long start = System.nanoTime();
      do {
        encoder.encode(batch);
        runs++;
      } while (System.nanoTime() - start < seconds * 1e9);
      engine = runs * 256 / ((System.nanoTime() - start) / 1e9);
    }
    double http256 =
        run(new Setting(base.maxSeqLen, 256, 1, 256, base.poolingLayer)).samplesPerSecond;
    double singles2 =
        run(new Setting(base.maxSeqLen, 1, 32, 256, base.poolingLayer, 2)).samplesPerSecond;
    double singles1 =
        run(new Setting(base.maxSeqLen, 1, 32, 256, base.poolingLayer, 1)).samplesPerSecond;
    System.out.printf(
        Locale.ROOT,
        "## Targets (max_seq_len %d)%n%n| measure | samples/s | ratio | target |%n"
            + "|---|---:|---:|---:|%n| engine alone, batch 256 | %.1f | | |%n"
            + "| HTTP, 1 client x 256 | %.1f | %.2f of engine | >= 0.95 |%n"
            + "| HTTP, 32 clients x 1 sentence, prefetch_size 2 | %.1f | %.2f of batched | >= 0.80 |%n"
            + "| HTTP, 32 clients x 1 sentence, prefetch_size 1 | %.1f | %.2f of batched | >= 0.80 |%n%n",
        base.maxSeqLen,
        engine,
        http256,
        http256 / engine,
        singles2,
        singles2 / http256,
        singles1,
        singles1 / http256);
  }

  private static Setting vary(Setting s, String dimension, int v) {
    switch (dimension) {
      case "max_seq_len":
        return new Setting(v, s.clientBatchSize, s.numClient, s.maxBatchSize, s.poolingLayer);
      case "client_batch_size":
        return new Setting(s.maxSeqLen, v, s.numClient, s.maxBatchSize, s.poolingLayer);
      case "num_client":
        return new Setting(s.maxSeqLen, s.clientBatchSize, v, s.maxBatchSize, s.poolingLayer);
      case "max_batch_size":
        return new Setting(s.maxSeqLen, s.clientBatchSize, s.numClient, v, s.poolingLayer);
      default:
        return new Setting(s.maxSeqLen, s.clientBatchSize, s.numClient, s.maxBatchSize, v);
    }
  }

  /** An SDK client of {@code server} (its HTTP port the kernel chose), once its ports are open. */
  private BertClient client(BertServer server) throws Exception {
    server.started().get(60, TimeUnit.SECONDS);
    BertClient.Builder sdk =
        BertClient.builder()
            .checkLength(false)
            .http(
                java.net.URI.create(
                    (tlsCert.isEmpty() ? "http" : "https") + "://127.0.0.1:" + server.httpPort()));
    if (!apiKey.isEmpty()) {
      sdk.apiKey(apiKey);
    }
    if (!tlsCert.isEmpty()) {
      sdk.trust(Path.of(tlsCert));
    }
    return sdk.build();
  }

  /**
   * The config of a node in this JVM on loopback with {@code keys}: HTTP on a port the kernel
   * chooses, no management port, Akka's log at warnings.
   */
  static Config loopback(Map<String, Object> keys) {
    return org.bertserving.server.NodeConfig.load(
        ConfigFactory.parseMap(keys)
            .withFallback(
                ConfigFactory.parseMap(
                    Map.of(
                        "bert-serving.http.interface",
                        "127.0.0.1",
                        "bert-serving.http.port",
                        0,
                        "akka.remote.artery.canonical.port",
                        0,
                        "bert-serving.management.enabled",
                        false,
                        "akka.loglevel",
                        "WARNING"))));
  }

  /** One node with the setting's server side, its clients for about {@code seconds}. */
  private Measured run(Setting s) throws Exception {
    Config config =
        loopback(
            Map.of(
                "bert-serving.engine.model-dir",
                modelDir,
                "bert-serving.engine.max-seq-len",
                s.maxSeqLen,
                "bert-serving.engine.pooling-layer",
                List.of(s.poolingLayer),
                "bert-serving.workers.max-batch-size",
                s.maxBatchSize,
                "bert-serving.workers.prefetch-size",
                s.prefetchSize,
                "bert-serving.http.api-key",
                apiKey,
                "bert-serving.http.tls.cert",
                tlsCert,
                "bert-serving.http.tls.key",
                tlsKey));
    try (BertServer server = BertServer.start(config);
        BertClient client = client(server)) {
      Waits.until(
          "a worker", java.time.Duration.ofMinutes(1), () -> server.metrics().workers.get() > 0);
      List<String> batch = sentences(s.clientBatchSize, s.maxSeqLen, new Random(s.hashCode()));
      client.encode(batch); // warm-up at this shape
      ExecutorService pool = Executors.newFixedThreadPool(s.numClient);
      long end = System.nanoTime() + (long) (seconds * 1e9);
      long start = System.nanoTime();
      List<Future<List<Double>>> clients = new ArrayList<>();
      for (int c = 0; c < s.numClient; c++) {
        clients.add(
            pool.submit(
                () -> {
                  List<Double> latencies = new ArrayList<>();
                  do {
                    long t = System.nanoTime();
                    client.encode(batch);
                    latencies.add((System.nanoTime() - t) / 1e6);
                  } while (System.nanoTime() < end);
                  return latencies;
                }));
      }
      List<Double> latencies = new ArrayList<>();
      for (Future<List<Double>> f : clients) {
        latencies.addAll(f.get());
      }
      double elapsed = (System.nanoTime() - start) / 1e9;
      pool.shutdown();
      latencies.sort(Double::compare);
      return new Measured(
          latencies.size() * (double) s.clientBatchSize / elapsed,
          percentile(latencies, 0.5),
          percentile(latencies, 0.99));
    }
  }

  /** Sentences of random common words, long enough to fill {@code maxSeqLen} tokens. */
  private static List<String> sentences(int n, int maxSeqLen, Random random) {
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      StringBuilder s = new StringBuilder();
      for (int w = 0; w < maxSeqLen; w++) {
        s.append(w == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
      }
      out.add(s.toString());
    }
    return out;
  }

  private static double percentile(List<Double> sorted, double q) {
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
  }

  private static void chart(
      Path file, String dimension, List<Integer> values, List<Measured> results)
      throws IOException {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(640)
            .height(400)
            .title("samples/s by " + dimension)
            .xAxisTitle(dimension)
            .yAxisTitle("samples/s")
            .build();
    chart.getStyler().setLegendVisible(false);
    chart.addSeries(
        "samples/s",
        values.stream().map(String::valueOf).toList(),
        results.stream().map(Measured::samplesPerSecond).toList());
    BitmapEncoder.saveBitmap(
        chart, file.toString().replaceAll("\\.png$", ""), BitmapEncoder.BitmapFormat.PNG);
  }
}

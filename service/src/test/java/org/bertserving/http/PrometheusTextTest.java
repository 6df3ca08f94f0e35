package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bertserving.cluster.Frontend;
import org.bertserving.cluster.Metrics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /metrics} as Prometheus' text format 0.0.4 defines it, scraped over real HTTP. */
class PrometheusTextTest {
  private static final Pattern COMMENT =
      Pattern.compile("# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)");
  private static final Pattern SAMPLE =
      Pattern.compile(
          "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\""
              + "(?:,[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\")*\\})? (\\S+)");
  private static final String WORKER = "akka://bert-serving@127.0.0.1:2552/worker-0";

  private static ActorSystem<Void> system;
  private static ServerBinding binding;
  private static final Metrics METRICS = new Metrics();

  @BeforeAll
  static void serve() throws Exception {
    system = ActorSystem.create(Behaviors.empty(), "prometheus-text-test");
    binding =
        Http.get(system)
            .newServerAt("127.0.0.1", 0)
            .bind(Probes.all(() -> null, METRICS))
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() {
    system.terminate();
  }

  private static HttpResponse<String> scrape() throws Exception {
    return Wire.get("http://127.0.0.1:" + binding.localAddress().getPort() + "/metrics");
  }

  @Test
  void everyLineFollowsTheExpositionFormat() throws Exception {
    Metrics m = METRICS;
    m.requests.add(3);
    m.reply(200);
    m.reply(429);
    for (double seconds : new double[] {0.003, 0.02, 0.02, 0.7, 42}) {
      m.latency.observe(seconds);
    }
    m.workerJobDone("m", new Frontend.JobDone(1, null, WORKER, 10, 40, 2, 1_500_000_000));
    m.workerDescribed(description("cpu-worker", "CPU \"2 cores\" \\ AVX2\nnew line", -1, -1));
    m.workerDescribed(description("gpu-worker", "NVIDIA A10 (8.6)", 2048, 20000));

    HttpResponse<String> response = scrape();
    assertEquals(200, response.statusCode());
    assertEquals(
        "text/plain; version=0.0.4; charset=utf-8",
        response.headers().firstValue("Content-Type").orElseThrow().toLowerCase());
    String text = response.body();
    Set<String> typed = new HashSet<>();
    List<String> buckets = new ArrayList<>();
    for (String line : text.split("\n")) {
      Matcher comment = COMMENT.matcher(line);
      if (comment.matches()) {
        if (comment.group(1).equals("TYPE")) {
          assertTrue(List.of("counter", "gauge", "histogram").contains(comment.group(3)), line);
          typed.add(comment.group(2));
        }
        continue;
      }
      Matcher sample = SAMPLE.matcher(line);
      assertTrue(sample.matches(), "not a sample: " + line);
      String family = sample.group(1).replaceAll("_(bucket|sum|count)$", "");
      assertTrue(
          typed.contains(family) || typed.contains(sample.group(1)), "no TYPE before " + line);
      Double.parseDouble(sample.group(3).replace("+Inf", "Infinity"));
      if (line.startsWith("bert_request_duration_seconds_bucket{")) {
        buckets.add(line);
      }
    }

    assertEquals(3, Wire.metric(text, "bert_requests_total"), text);
    assertEquals(1, Wire.metric(text, "bert_replies_total{status=\"429\"}"), text);
    assertEquals(
        1.5,
        Wire.metric(text, "bert_worker_busy_seconds_total{model=\"m\",worker=\"" + WORKER + "\"}"));
    assertEquals(
        2, Wire.metric(text, "bert_worker_tf_runs_total{model=\"m\",worker=\"" + WORKER + "\"}"));
    assertTrue(
        text.contains("device=\"CPU \\\"2 cores\\\" \\\\ AVX2\\nnew line\""), "escaped: " + text);
    // GPU memory only for the worker on a GPU
    assertEquals(2048, Wire.metric(text, "bert_worker_gpu_memory_used_mib{worker=\"gpu-worker\"}"));
    assertFalse(text.contains("bert_worker_gpu_memory_used_mib{worker=\"cpu-worker\"}"), text);
    assertEquals(
        2,
        text.lines()
            .filter(l -> l.startsWith("bert_worker_xla_compiles{"))
            .filter(l -> l.contains("worker=\"gpu-worker\""))
            .count());

    // the latency buckets as declared, cumulative, +Inf last and equal to the count
    assertEquals(13, buckets.size(), String.join("\n", buckets));
    double previous = 0;
    for (String bucket : buckets) {
      double n = Double.parseDouble(bucket.substring(bucket.lastIndexOf(' ') + 1));
      assertTrue(n >= previous, "cumulative: " + buckets);
      previous = n;
    }
    assertTrue(buckets.get(0).startsWith("bert_request_duration_seconds_bucket{le=\"0.005\"} 1"));
    assertTrue(buckets.get(12).startsWith("bert_request_duration_seconds_bucket{le=\"+Inf\"} "));
    assertEquals(4, Wire.metric(text, "bert_request_duration_seconds_bucket{le=\"30.0\"}"), text);
    assertEquals(5, previous);
    assertEquals(5, Wire.metric(text, "bert_request_duration_seconds_count"));
    assertEquals(42.743, Wire.metric(text, "bert_request_duration_seconds_sum"), 1e-9);
  }

  @Test
  void aDepartedWorkersSeriesDisappear() throws Exception {
    Metrics m = METRICS;
    String leaving = "akka://bert-serving@127.0.0.1:2553/worker-1";
    m.workerJobDone("m", new Frontend.JobDone(2, null, leaving, 4, 16, 1, 1_000_000));
    m.workerDescribed(description(leaving, "NVIDIA T4 (7.5)", 100, 200));
    String before = scrape().body();
    long series = before.lines().filter(l -> l.contains("worker=\"" + leaving + "\"")).count();
    // rows, runs, busy, info, GPU memory used and limit, XLA compiles at warm-up and live
    assertEquals(8, series, before);

    m.workerLeft("m", leaving);
    String after = scrape().body();
    assertFalse(after.contains(leaving), after);
    assertFalse(m.perWorker().containsKey(leaving));
  }

  /** promtool's own check of a real scrape, when the Prometheus package is installed. */
  @Test
  void promtoolAcceptsTheScrape() throws Exception {
    Path promtool =
        List.of("/usr/bin/promtool", "/usr/local/bin/promtool").stream()
            .map(Path::of)
            .filter(Files::isExecutable)
            .findFirst()
            .orElse(null);
    Assumptions.assumeTrue(
        promtool != null, "promtool is not installed (apt-get install prometheus): skipped");
    METRICS.jobRows.observe(8);
    METRICS.reply(200);
    Process check =
        new ProcessBuilder(promtool.toString(), "check", "metrics")
            .redirectErrorStream(true)
            .start();
    check.getOutputStream().write(scrape().body().getBytes(StandardCharsets.UTF_8));
    check.getOutputStream().close();
    String said = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(check.waitFor(30, TimeUnit.SECONDS), "promtool did not finish");
    assertEquals(0, check.exitValue(), said);
  }

  private static Frontend.WorkerDescription description(
      String name, String device, long used, long limit) {
    return new Frontend.WorkerDescription(
        null,
        name,
        100,
        device,
        "2.18.0",
        "libcudart.so.12",
        "9",
        used,
        limit,
        6,
        0,
        "m",
        16,
        "embedding",
        "REDUCE_MEAN",
        java.util.List.of(),
        32,
        false,
        "float32");
  }
}

package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bertserving.cluster.Frontend;
import org.bertserving.cluster.Metrics;
import org.junit.jupiter.api.Test;

/** {@code /metrics} as Prometheus' text exposition format defines it, label escaping included. */
class PrometheusTextTest {
  private static final Pattern COMMENT =
      Pattern.compile("# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)");
  private static final Pattern SAMPLE =
      Pattern.compile(
          "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\""
              + "(?:,[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\")*\\})? (\\S+)");

  @Test
  void everyLineFollowsTheExpositionFormat() {
    Metrics m = new Metrics();
    m.requests.add(3);
    m.reply(200);
    m.reply(429);
    m.perWorker.put(
        "akka://bert-serving@127.0.0.1:2552/worker-0", new long[] {10, 2, 1_500_000_000});
    m.described.put("cpu-worker", info("cpu-worker", "CPU \"2 cores\" \\ AVX2\nnew line", -1, -1));
    m.described.put("gpu-worker", info("gpu-worker", "NVIDIA A10 (8.6)", 2048, 20000));

    String text = PrometheusText.render(m);
    Set<String> typed = new HashSet<>();
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
    }

    assertTrue(text.contains("bert_requests_total 3\n"), text);
    assertTrue(text.contains("bert_replies_total{status=\"429\"} 1\n"), text);
    assertTrue(
        text.contains(
            "bert_worker_busy_seconds_total{worker=\"akka://bert-serving@127.0.0.1:2552/worker-0\"}"
                + " 1.500000\n"),
        text);
    assertTrue(
        text.contains("device=\"CPU \\\"2 cores\\\" \\\\ AVX2\\nnew line\""), "escaped: " + text);
    // GPU memory only for the worker on a GPU
    assertTrue(
        text.contains("bert_worker_gpu_memory_used_mib{worker=\"gpu-worker\"} 2048\n"), text);
    assertFalse(text.contains("bert_worker_gpu_memory_used_mib{worker=\"cpu-worker\"}"), text);
    assertEquals(
        2, text.lines().filter(l -> l.startsWith("bert_worker_xla_compiles{worker=\"gpu")).count());
  }

  private static Frontend.WorkerInfo info(String name, String device, long used, long limit) {
    return new Frontend.WorkerInfo(
        null, name, 100, device, "2.18.0", "libcudart.so.12", "9", used, limit, 6, 0);
  }
}

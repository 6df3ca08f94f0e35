package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.bertserving.engine.TinyBert;
import org.bertserving.http.Wire;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/**
 * {@code -xla} on the CPU ({@code --tf_xla_cpu_global_jit}), read from TensorFlow's own log of
 * every XLA compile: all compiles happen at warm-up; 20 requests of new lengths and sizes after it
 * compile nothing (each new shape used to stall its request 1.5-2 s on a GPU, and after ten
 * compiles TensorFlow stopped compiling altogether).
 */
class XlaNoLiveCompileTest {

  @Test
  void twentyNewLengthsAfterWarmUpCompileNothing() throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of("-model_dir", TestNodes.tinyModel().toString(), "-max_seq_len", "32", "-xla"));
    args.addAll(ExitCodesTest.loopback(0, 0));
    Map<String, String> env =
        Map.of(
            "TF_XLA_FLAGS",
            "--tf_xla_cpu_global_jit",
            "TF_CPP_MIN_LOG_LEVEL",
            "0",
            "TF_CPP_VMODULE",
            "device_compilation_profiler=2");
    try (NodeProcess node =
        NodeProcess.start(
            "xla",
            NodeProcess.ownClasspath(),
            List.of("-Xmx512m"),
            args,
            Path.of("target", "xla"),
            env)) {
      int http = node.ports(Duration.ofSeconds(120)).http();
      Wire.awaitReady("http://127.0.0.1:" + http, Duration.ofSeconds(120));
      long atWarmUp = compiles(node.output());
      assertTrue(atWarmUp > 0, "XLA compiled at warm-up:\n" + node.output());
      List<String> words = TinyBert.VOCAB.subList(5, TinyBert.VOCAB.size());
      for (int n = 1; n <= 20; n++) {
        List<String> texts = new ArrayList<>();
        for (int t = 0; t < n; t++) {
          texts.add(String.join(" ", words.subList(0, Math.min(words.size(), n + t))));
        }
        HttpResponse<String> r =
            Wire.post("http://127.0.0.1:" + http + "/encode", Wire.encodeBody(texts));
        assertEquals(200, r.statusCode(), r.body());
      }
      assertEquals(atWarmUp, compiles(node.output()), "no XLA compile on live traffic");
      Awaitility.await("the frontend describes its worker again")
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  Wire.get("http://127.0.0.1:" + http + "/metrics")
                      .body()
                      .lines()
                      // labels in any order, the value as a double ("0.0")
                      .anyMatch(
                          l ->
                              l.startsWith("bert_worker_xla_compiles{")
                                  && l.contains("when=\"live\"")
                                  && Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)) == 0));
    }
  }

  /** Compiles TensorFlow logged: "Compiled cluster_N K times". */
  static long compiles(String log) {
    return log.lines()
        .filter(l -> l.contains("device_compilation_profiler") && l.contains("Compiled cluster"))
        .count();
  }
}

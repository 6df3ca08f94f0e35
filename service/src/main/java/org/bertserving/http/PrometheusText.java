package org.bertserving.http;

import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.bertserving.cluster.Metrics;

/** {@code GET /metrics} in Prometheus' text exposition format. */
final class PrometheusText {
  static final ContentType.NonBinary CONTENT_TYPE = ContentTypes.TEXT_PLAIN_UTF8;

  private PrometheusText() {}

  static akka.http.javadsl.model.HttpResponse response(Metrics m) {
    return akka.http.javadsl.model.HttpResponse.create()
        .withEntity(akka.http.javadsl.model.HttpEntities.create(CONTENT_TYPE, render(m)));
  }

  static String render(Metrics m) {
    StringBuilder s = new StringBuilder(2048);
    single(s, "bert_requests_total", "counter", "Encode requests received", m.requests.sum());
    single(s, "bert_rows_total", "counter", "Texts received for encoding", m.rows.sum());
    header(s, "bert_replies_total", "counter", "Replies by HTTP-like status");
    m.replies.forEach(
        (status, n) -> line(s, "bert_replies_total", "status=\"" + status + "\"", n.sum()));
    histogram(
        s, "bert_request_duration_seconds", "Request latency, frontend in to reply out", m.latency);
    histogram(s, "bert_job_rows", "Rows per job (cross-request batch size)", m.jobRows);
    single(
        s, "bert_pending_rows", "gauge", "Rows accepted and not yet answered", m.pendingRows.get());
    single(
        s,
        "bert_queued_rows",
        "gauge",
        "Rows waiting for a worker (queue depth)",
        m.queuedRows.get());
    single(s, "bert_workers", "gauge", "Workers registered in the cluster", m.workers.get());
    single(
        s,
        "bert_capacity_tokens_per_second",
        "gauge",
        "Measured speed of all workers together",
        decimals(m.capacityTokensPerSecond.get(), 3));
    single(
        s,
        "bert_backlog_seconds",
        "gauge",
        "Seconds the accepted, unfinished work needs at that speed",
        decimals(m.backlogSeconds.get(), 3));
    single(
        s,
        "bert_cluster_backlog_seconds",
        "gauge",
        "Seconds the work accepted by every frontend needs at that speed (admission's measure)",
        decimals(m.clusterBacklogSeconds.get(), 3));
    single(
        s,
        "bert_frontends",
        "gauge",
        "Frontends sharing the workers as this one hears them, itself included",
        m.frontends.get());
    single(
        s,
        "bert_engine_failures_total",
        "counter",
        "TensorFlow runs that failed (the worker restarts its session)",
        m.engineFailures.sum());
    single(
        s,
        "bert_rejoins_total",
        "counter",
        "Times this node rejoined the cluster as a new incarnation",
        m.rejoins.sum());
    perWorker(
        s, "bert_worker_rows_total", "counter", "Rows run per worker", m.perWorker, v -> v[0]);
    perWorker(
        s,
        "bert_worker_tf_runs_total",
        "counter",
        "TensorFlow runs per worker",
        m.perWorker,
        v -> v[1]);
    perWorker(
        s,
        "bert_worker_busy_seconds_total",
        "counter",
        "Time per worker spent on jobs (TensorFlow runs)",
        m.perWorker,
        v -> decimals(v[2] / 1e9, 6));
    header(s, "bert_worker_info", "gauge", "What each worker runs on (value 1)");
    m.described.forEach(
        (w, i) ->
            line(
                s,
                "bert_worker_info",
                labels(
                    "worker", w,
                    "device", i.device(),
                    "tensorflow", i.tensorflow(),
                    "cuda_runtime", i.cudaRuntime(),
                    "cudnn", i.cudnn()),
                1));
    perWorker(
        s,
        "bert_worker_gpu_memory_used_mib",
        "gauge",
        "GPU memory in use on the worker's GPU (all processes)",
        m.described,
        i -> i.gpuMemoryUsedMib() >= 0 ? i.gpuMemoryUsedMib() : null);
    perWorker(
        s,
        "bert_worker_gpu_memory_limit_mib",
        "gauge",
        "What the worker's process may take of its GPU (-gpu_memory_fraction)",
        m.described,
        i -> i.gpuMemoryLimitMib() >= 0 ? i.gpuMemoryLimitMib() : null);
    header(
        s,
        "bert_worker_xla_compiles",
        "gauge",
        "XLA compiles of a worker under -xla, at warm-up and on live traffic");
    m.described.forEach(
        (w, i) -> {
          line(
              s,
              "bert_worker_xla_compiles",
              labels("worker", w, "when", "warm_up"),
              i.warmCompiles());
          line(
              s, "bert_worker_xla_compiles", labels("worker", w, "when", "live"), i.liveCompiles());
        });
    return s.toString();
  }

  /** {@code key="value"} pairs, each value escaped as the exposition format wants it. */
  private static String labels(String... keysAndValues) {
    StringBuilder s = new StringBuilder();
    for (int k = 0; k < keysAndValues.length; k += 2) {
      String value = keysAndValues[k + 1] == null ? "" : keysAndValues[k + 1];
      s.append(k == 0 ? "" : ",")
          .append(keysAndValues[k])
          .append("=\"")
          .append(value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n"))
          .append('"');
    }
    return s.toString();
  }

  private static String decimals(double value, int places) {
    return String.format(Locale.ROOT, "%." + places + "f", value);
  }

  private static void header(StringBuilder s, String name, String type, String help) {
    s.append("# HELP ").append(name).append(' ').append(help).append('\n');
    s.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void line(StringBuilder s, String name, String labels, Object value) {
    s.append(name);
    if (labels != null) {
      s.append('{').append(labels).append('}');
    }
    s.append(' ').append(value).append('\n');
  }

  /** A metric with one value and no labels. */
  private static void single(StringBuilder s, String name, String type, String help, Object value) {
    header(s, name, type, help);
    line(s, name, null, value);
  }

  /** A metric with a value per worker; workers for which {@code value} gives null are left out. */
  private static <V> void perWorker(
      StringBuilder s,
      String name,
      String type,
      String help,
      Map<String, V> workers,
      Function<V, Object> value) {
    header(s, name, type, help);
    workers.forEach(
        (w, v) -> {
          Object x = value.apply(v);
          if (x != null) {
            line(s, name, labels("worker", w), x);
          }
        });
  }

  private static void histogram(StringBuilder s, String name, String help, Metrics.Histogram h) {
    header(s, name, "histogram", help);
    double[] bounds = h.bounds();
    long[] counts = h.cumulative();
    for (int i = 0; i < bounds.length; i++) {
      s.append(name)
          .append("_bucket{le=\"")
          .append(bounds[i])
          .append("\"} ")
          .append(counts[i])
          .append('\n');
    }
    s.append(name).append("_bucket{le=\"+Inf\"} ").append(h.count()).append('\n');
    s.append(name).append("_sum ").append(String.format(Locale.ROOT, "%.6f", h.sum())).append('\n');
    s.append(name).append("_count ").append(h.count()).append('\n');
  }
}

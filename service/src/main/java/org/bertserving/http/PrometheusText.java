package org.bertserving.http;

import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import java.util.Locale;
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
    counter(s, "bert_requests_total", "Encode requests received", m.requests.sum());
    counter(s, "bert_rows_total", "Texts received for encoding", m.rows.sum());
    s.append(
        "# HELP bert_replies_total Replies by HTTP-like status\n# TYPE bert_replies_total counter\n");
    m.replies.forEach(
        (status, n) ->
            s.append("bert_replies_total{status=\"")
                .append(status)
                .append("\"} ")
                .append(n.sum())
                .append('\n'));
    histogram(
        s, "bert_request_duration_seconds", "Request latency, frontend in to reply out", m.latency);
    histogram(s, "bert_job_rows", "Rows per job (cross-request batch size)", m.jobRows);
    gauge(s, "bert_pending_rows", "Rows accepted and not yet answered", m.pendingRows.get());
    gauge(s, "bert_queued_rows", "Rows waiting for a worker (queue depth)", m.queuedRows.get());
    gauge(s, "bert_workers", "Workers registered in the cluster", m.workers.get());
    gauge(
        s,
        "bert_capacity_tokens_per_second",
        "Measured speed of all workers together",
        m.capacityTokensPerSecond.get());
    gauge(
        s,
        "bert_backlog_seconds",
        "Seconds the accepted, unfinished work needs at that speed",
        m.backlogSeconds.get());
    counter(
        s,
        "bert_engine_failures_total",
        "TensorFlow runs that failed (the worker restarts its session)",
        m.engineFailures.sum());
    counter(
        s,
        "bert_rejoins_total",
        "Times this node rejoined the cluster as a new incarnation",
        m.rejoins.sum());
    s.append(
        "# HELP bert_worker_rows_total Rows run per worker\n# TYPE bert_worker_rows_total counter\n");
    m.perWorker.forEach(
        (w, v) ->
            s.append("bert_worker_rows_total{worker=\"")
                .append(w)
                .append("\"} ")
                .append(v[0])
                .append('\n'));
    s.append(
        "# HELP bert_worker_tf_runs_total TensorFlow runs per worker\n# TYPE bert_worker_tf_runs_total counter\n");
    m.perWorker.forEach(
        (w, v) ->
            s.append("bert_worker_tf_runs_total{worker=\"")
                .append(w)
                .append("\"} ")
                .append(v[1])
                .append('\n'));
    s.append(
        "# HELP bert_worker_busy_seconds_total Time per worker spent on jobs (TensorFlow runs)\n# TYPE bert_worker_busy_seconds_total counter\n");
    m.perWorker.forEach(
        (w, v) ->
            s.append("bert_worker_busy_seconds_total{worker=\"")
                .append(w)
                .append("\"} ")
                .append(String.format(Locale.ROOT, "%.6f", v[2] / 1e9))
                .append('\n'));
    s.append(
        "# HELP bert_worker_info What each worker runs on (value 1)\n# TYPE bert_worker_info gauge\n");
    m.described.forEach(
        (w, i) ->
            s.append("bert_worker_info{worker=\"")
                .append(label(w))
                .append("\",device=\"")
                .append(label(i.device()))
                .append("\",tensorflow=\"")
                .append(label(i.tensorflow()))
                .append("\",cuda_runtime=\"")
                .append(label(i.cudaRuntime()))
                .append("\",cudnn=\"")
                .append(label(i.cudnn()))
                .append("\"} 1\n"));
    s.append(
        "# HELP bert_worker_gpu_memory_used_mib GPU memory in use on the worker's GPU (all processes)\n"
            + "# TYPE bert_worker_gpu_memory_used_mib gauge\n");
    m.described.forEach(
        (w, i) -> {
          if (i.gpuMemoryUsedMib() >= 0) {
            s.append("bert_worker_gpu_memory_used_mib{worker=\"")
                .append(label(w))
                .append("\"} ")
                .append(i.gpuMemoryUsedMib())
                .append('\n');
          }
        });
    s.append(
        "# HELP bert_worker_gpu_memory_limit_mib What the worker's process may take of its GPU (-gpu_memory_fraction)\n"
            + "# TYPE bert_worker_gpu_memory_limit_mib gauge\n");
    m.described.forEach(
        (w, i) -> {
          if (i.gpuMemoryLimitMib() >= 0) {
            s.append("bert_worker_gpu_memory_limit_mib{worker=\"")
                .append(label(w))
                .append("\"} ")
                .append(i.gpuMemoryLimitMib())
                .append('\n');
          }
        });
    s.append(
        "# HELP bert_worker_xla_compiles XLA compiles of a worker under -xla, at warm-up and on live traffic\n"
            + "# TYPE bert_worker_xla_compiles gauge\n");
    m.described.forEach(
        (w, i) ->
            s.append("bert_worker_xla_compiles{worker=\"")
                .append(label(w))
                .append("\",when=\"warm_up\"} ")
                .append(i.warmCompiles())
                .append("\nbert_worker_xla_compiles{worker=\"")
                .append(label(w))
                .append("\",when=\"live\"} ")
                .append(i.liveCompiles())
                .append('\n'));
    return s.toString();
  }

  /** A label value as the exposition format wants it: backslash, quote and newline escaped. */
  private static String label(String value) {
    return value == null
        ? ""
        : value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  private static void counter(StringBuilder s, String name, String help, long value) {
    s.append("# HELP ")
        .append(name)
        .append(' ')
        .append(help)
        .append("\n# TYPE ")
        .append(name)
        .append(" counter\n")
        .append(name)
        .append(' ')
        .append(value)
        .append('\n');
  }

  private static void gauge(StringBuilder s, String name, String help, long value) {
    s.append("# HELP ")
        .append(name)
        .append(' ')
        .append(help)
        .append("\n# TYPE ")
        .append(name)
        .append(" gauge\n")
        .append(name)
        .append(' ')
        .append(value)
        .append('\n');
  }

  private static void gauge(StringBuilder s, String name, String help, double value) {
    s.append("# HELP ")
        .append(name)
        .append(' ')
        .append(help)
        .append("\n# TYPE ")
        .append(name)
        .append(" gauge\n")
        .append(name)
        .append(' ')
        .append(String.format(Locale.ROOT, "%.3f", value))
        .append('\n');
  }

  private static void histogram(StringBuilder s, String name, String help, Metrics.Histogram h) {
    s.append("# HELP ")
        .append(name)
        .append(' ')
        .append(help)
        .append("\n# TYPE ")
        .append(name)
        .append(" histogram\n");
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

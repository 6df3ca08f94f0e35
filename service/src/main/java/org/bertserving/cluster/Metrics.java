package org.bertserving.cluster;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the frontend counts, read by {@code /metrics} and {@code /status/server}: the Prometheus
 * Java client's metrics in a registry of this node's own (several nodes share a JVM in tests, so
 * not the global one). Thread-safe: actors write, HTTP threads read.
 */
public final class Metrics {
  /** Upper bounds (seconds) of the request latency buckets. */
  static final double[] LATENCY_BUCKETS = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
  };

  /** Upper bounds (rows) of the job size buckets. */
  static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

  private final PrometheusRegistry registry = new PrometheusRegistry();

  public final Count requests = count("bert_requests_total", "Encode requests received");
  public final Count rows = count("bert_rows_total", "Texts received for encoding");
  private final Counter replies =
      counter("bert_replies_total", "Replies by HTTP-like status", "status");
  public final Histogram latency =
      histogram(
          "bert_request_duration_seconds",
          "Request latency, frontend in to reply out",
          LATENCY_BUCKETS);
  public final Histogram jobRows =
      histogram("bert_job_rows", "Rows per job (cross-request batch size)", BATCH_BUCKETS);
  public final Gauge pendingRows = gauge("bert_pending_rows", "Rows accepted and not yet answered");
  public final PerModel queuedRows =
      perModel("bert_queued_rows", "Rows waiting for a worker (queue depth)", false);
  public final PerModel workers =
      perModel("bert_workers", "Workers registered in the cluster", false);

  /** Tokens per second of all workers together, as the frontend measures them. */
  public final PerModel capacityTokensPerSecond =
      perModel("bert_capacity_tokens_per_second", "Measured speed of all workers together", false);

  /** Seconds the accepted, unfinished work needs at that speed (read: the busiest model's). */
  public final PerModel backlogSeconds =
      perModel(
          "bert_backlog_seconds",
          "Seconds the accepted, unfinished work needs at that speed",
          true);

  /** Seconds the work accepted by every frontend of the cluster needs at that speed. */
  public final PerModel clusterBacklogSeconds =
      perModel(
          "bert_cluster_backlog_seconds",
          "Seconds the work accepted by every frontend needs at that speed (admission's measure)",
          true);

  /** Frontends sharing the workers as this one hears them, itself included (0: not a frontend). */
  public final Gauge frontends =
      gauge(
          "bert_frontends",
          "Frontends sharing the workers as this one hears them, itself included");

  /** The models this node's frontend knows, as their workers described them (HTTP routes read). */
  public volatile ServedModels served = ServedModels.NONE;

  /** The other frontends' backlogs (tokens) by address, as they last published them. */
  public volatile Map<String, Double> otherFrontends = Map.of();

  /** TensorFlow runs that failed (each restarts its worker's session). */
  public final Count engineFailures =
      count(
          "bert_engine_failures_total",
          "TensorFlow runs that failed (the worker restarts its session)");

  /** Jobs lost between nodes, or whose reports were: freed when the worker said so. */
  public final Count unreportedJobs =
      count(
          "bert_unreported_jobs_total",
          "Jobs a worker does not hold and never reported (the job or its report lost between"
              + " nodes): their room freed, their rows sent again where awaited");

  /** Times this node was removed from the cluster and joined again as a new incarnation. */
  public final Count rejoins =
      count("bert_rejoins_total", "Times this node rejoined the cluster as a new incarnation");

  /** The HTTP port as bound (0 until then): the configured one may be 0, any free one. */
  public volatile int httpPort;

  /** When this node started (not the first status call). */
  public final java.time.Instant started = java.time.Instant.now();

  private final Counter workerRows =
      counter("bert_worker_rows_total", "Rows run per worker", "worker", "model");
  private final Counter workerTfRuns =
      counter("bert_worker_tf_runs_total", "TensorFlow runs per worker", "worker", "model");
  private final Counter workerBusy =
      counter(
          "bert_worker_busy_seconds_total",
          "Time per worker spent on jobs (TensorFlow runs)",
          "worker",
          "model");

  /** Per worker, what it said it runs on and what XLA compiled (the latest description). */
  private final Map<String, Frontend.WorkerDescription> described = new ConcurrentHashMap<>();

  public Metrics() {
    // the descriptions are read at each scrape: a changed one leaves no stale label set behind
    described(
        "bert_worker_info",
        "What each worker runs on (value 1)",
        new String[] {"worker", "model", "device", "tensorflow", "cuda_runtime", "cudnn"},
        (i, g) ->
            g.call(
                1,
                i.name(),
                orEmpty(i.model()),
                orEmpty(i.device()),
                orEmpty(i.tensorflow()),
                orEmpty(i.cudaRuntime()),
                orEmpty(i.cudnn())));
    described(
        "bert_worker_gpu_memory_used_mib",
        "GPU memory in use on the worker's GPU (all processes)",
        new String[] {"worker"},
        (i, g) -> {
          if (i.gpuMemoryUsedMib() >= 0) {
            g.call(i.gpuMemoryUsedMib(), i.name());
          }
        });
    described(
        "bert_worker_gpu_memory_limit_mib",
        "What the worker's process may take of its GPU (-gpu_memory_fraction)",
        new String[] {"worker"},
        (i, g) -> {
          if (i.gpuMemoryLimitMib() >= 0) {
            g.call(i.gpuMemoryLimitMib(), i.name());
          }
        });
    described(
        "bert_worker_xla_compiles",
        "XLA compiles of a worker under -xla, at warm-up and on live traffic",
        new String[] {"worker", "when"},
        (i, g) -> {
          g.call(i.warmCompiles(), i.name(), "warm_up");
          g.call(i.liveCompiles(), i.name(), "live");
        });
  }

  /** Every metric of this node as it is now, for {@code /metrics}. */
  public MetricSnapshots scrape() {
    return registry.scrape();
  }

  public void workerDescribed(Frontend.WorkerDescription description) {
    described.put(description.name(), description);
  }

  /** A worker of {@code model} left: its series go with it (from zero if it comes back). */
  public void workerLeft(String model, String name) {
    described.remove(name);
    workerRows.remove(name, model);
    workerTfRuns.remove(name, model);
    workerBusy.remove(name, model);
  }

  /** A reply of this status: the frontend's, and the HTTP layer's own errors. */
  public void reply(int status) {
    replies.labelValues(String.valueOf(status)).inc();
  }

  /** Replies so far by status. */
  public Map<Integer, Long> replies() {
    Map<Integer, Long> out = new TreeMap<>();
    for (CounterSnapshot.CounterDataPointSnapshot p : replies.collect().getDataPoints()) {
      out.put(Integer.valueOf(p.getLabels().get("status")), (long) p.getValue());
    }
    return out;
  }

  /** Jobs sent to workers so far (the observations of {@link #jobRows}). */
  public long jobs() {
    return jobRows.collect().getDataPoints().get(0).getCount();
  }

  /** A worker of {@code model} finished a job. */
  public void workerJobDone(String model, Frontend.JobDone done) {
    workerRows.labelValues(done.workerName(), model).inc(done.rows());
    workerTfRuns.labelValues(done.workerName(), model).inc(done.tfRuns());
    workerBusy.labelValues(done.workerName(), model).inc(done.nanos() / 1e9);
  }

  /** Per worker present: rows, TF runs, busy nanoseconds (a copy). */
  public Map<String, long[]> perWorker() {
    Map<String, long[]> out = new TreeMap<>();
    Counter[] columns = {workerRows, workerTfRuns, workerBusy};
    for (int c = 0; c < columns.length; c++) {
      for (CounterSnapshot.CounterDataPointSnapshot p : columns[c].collect().getDataPoints()) {
        long[] v = out.computeIfAbsent(p.getLabels().get("worker"), w -> new long[3]);
        v[c] = c == 2 ? Math.round(p.getValue() * 1e9) : (long) p.getValue();
      }
    }
    return out;
  }

  private Counter counter(String name, String help, String... labels) {
    return Counter.builder()
        .name(name)
        .help(help)
        .labelNames(labels)
        .withoutExemplars()
        .register(registry);
  }

  private Count count(String name, String help) {
    return new Count(counter(name, help));
  }

  /** A counter without labels, read as a whole number (for {@code /status/server} and tests). */
  public static final class Count {
    private final Counter counter;

    private Count(Counter counter) {
      this.counter = counter;
    }

    public void increment() {
      counter.inc();
    }

    public void add(long n) {
      counter.inc(n);
    }

    public long sum() {
      return counter.getLongValue();
    }
  }

  private Gauge gauge(String name, String help) {
    return Gauge.builder().name(name).help(help).withoutExemplars().register(registry);
  }

  /**
   * A gauge of each model (label {@code model}: the workers of one model, its queue, speed,
   * backlog), read in Java as the sum over the models, or the largest of them.
   */
  public static final class PerModel {
    private final Gauge gauge;
    private final boolean largest;

    private PerModel(Gauge gauge, boolean largest) {
      this.gauge = gauge;
      this.largest = largest;
    }

    public void set(String model, double value) {
      gauge.labelValues(model).set(value);
    }

    /** The sum over the models (or the largest value); 0 while no model is known. */
    public double get() {
      double out = 0;
      for (var p : gauge.collect().getDataPoints()) {
        out = largest ? Math.max(out, p.getValue()) : out + p.getValue();
      }
      return out;
    }
  }

  private PerModel perModel(String name, String help, boolean largest) {
    return new PerModel(
        Gauge.builder()
            .name(name)
            .help(help + ", per model")
            .labelNames("model")
            .withoutExemplars()
            .register(registry),
        largest);
  }

  private Histogram histogram(String name, String help, double[] bounds) {
    return Histogram.builder()
        .name(name)
        .help(help)
        .classicOnly()
        .classicUpperBounds(bounds)
        .withoutExemplars()
        .register(registry);
  }

  private void described(
      String name,
      String help,
      String[] labels,
      java.util.function.BiConsumer<Frontend.WorkerDescription, GaugeWithCallback.Callback>
          values) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .labelNames(labels)
        .callback(g -> described.values().forEach(i -> values.accept(i, g)))
        .register(registry);
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}

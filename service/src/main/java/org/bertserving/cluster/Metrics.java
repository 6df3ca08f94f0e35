package org.bertserving.cluster;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the frontend counts, read by {@code /metrics} and {@code /status/server}. Plain Java and
 * thread-safe: actors write, HTTP threads read.
 */
public final class Metrics {
  /** Upper bounds (seconds) of the request latency buckets. */
  static final double[] LATENCY_BUCKETS = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
  };

  /** Upper bounds (rows) of the job size buckets. */
  static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

  public final LongAdder requests = new LongAdder();
  public final LongAdder rows = new LongAdder();
  public final Map<Integer, LongAdder> replies = new ConcurrentHashMap<>();
  public final Histogram latency = new Histogram(LATENCY_BUCKETS);
  public final Histogram jobRows = new Histogram(BATCH_BUCKETS);
  public final AtomicLong pendingRows = new AtomicLong();
  public final AtomicLong queuedRows = new AtomicLong();
  public final AtomicLong workers = new AtomicLong();

  /** Tokens per second of all workers together, as the frontend measures them. */
  public final Gauge capacityTokensPerSecond = new Gauge();

  /** Seconds the accepted, unfinished work needs at that speed. */
  public final Gauge backlogSeconds = new Gauge();

  /** Seconds the work accepted by every frontend of the cluster needs at that speed. */
  public final Gauge clusterBacklogSeconds = new Gauge();

  /** Frontends sharing the workers as this one hears them, itself included (0: not a frontend). */
  public final AtomicLong frontends = new AtomicLong();

  /** The other frontends' backlogs (tokens) by address, as they last published them. */
  public volatile Map<String, Double> otherFrontends = Map.of();

  /** TensorFlow runs that failed (each restarts its worker's session). */
  public final LongAdder engineFailures = new LongAdder();

  /** Times this node was removed from the cluster and joined again as a new incarnation. */
  public final LongAdder rejoins = new LongAdder();

  /** The HTTP port as bound (0 until then): the configured one may be 0, any free one. */
  public volatile int httpPort;

  /** When this node started (not the first status call). */
  public final java.time.Instant started = java.time.Instant.now();

  /** Per worker: rows, TF runs, busy nanoseconds. */
  public final Map<String, long[]> perWorker = new ConcurrentHashMap<>();

  /** Per worker, what it said it runs on and what XLA compiled (the latest description). */
  public final Map<String, Frontend.WorkerInfo> described = new ConcurrentHashMap<>();

  void workerDescribed(Frontend.WorkerInfo info) {
    described.put(info.name(), info);
  }

  /** A reply of this status: the frontend's, and the HTTP layer's own errors. */
  public void reply(int status) {
    replies.computeIfAbsent(status, s -> new LongAdder()).increment();
  }

  void workerRan(Frontend.JobDone done) {
    perWorker.merge(
        done.workerName(),
        new long[] {done.rows(), done.runs(), done.nanos()},
        (a, b) -> {
          synchronized (a) {
            a[0] += b[0];
            a[1] += b[1];
            a[2] += b[2];
          }
          return a;
        });
  }

  /** A value that goes up and down. */
  public static final class Gauge {
    private volatile double value;

    public void set(double v) {
      value = v;
    }

    public double get() {
      return value;
    }
  }

  /** A cumulative histogram with fixed buckets, as Prometheus expects. */
  public static final class Histogram {
    private final double[] bounds;
    private final LongAdder[] counts;
    private final LongAdder count = new LongAdder();
    private final java.util.concurrent.atomic.DoubleAdder sum =
        new java.util.concurrent.atomic.DoubleAdder();

    Histogram(double[] bounds) {
      this.bounds = bounds;
      this.counts = new LongAdder[bounds.length];
      for (int i = 0; i < bounds.length; i++) {
        counts[i] = new LongAdder();
      }
    }

    void observe(double value) {
      for (int i = 0; i < bounds.length; i++) {
        if (value <= bounds[i]) {
          counts[i].increment();
        }
      }
      count.increment();
      sum.add(value);
    }

    public double[] bounds() {
      return bounds.clone();
    }

    /** Cumulative counts, one per bound. */
    public long[] cumulative() {
      long[] out = new long[bounds.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = counts[i].sum();
      }
      return out;
    }

    public long count() {
      return count.sum();
    }

    public double sum() {
      return sum.sum();
    }
  }
}

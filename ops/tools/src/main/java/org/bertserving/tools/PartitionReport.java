package org.bertserving.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the clients saw during one partition of {@link PartitionRun}, what counts as acceptable
 * ({@link Row#problems()}), and the Markdown table the chaos tool prints.
 */
public final class PartitionReport {
  private static final Pattern EXCEPTION = Pattern.compile("([A-Za-z]+Exception)");

  /** Longest a 503 may take to be a refusal at once rather than a request that hung first. */
  private static final long REFUSAL_MILLIS = 5_000;

  /** Longest from the links' return to full capacity. */
  private static final double HEAL_SECONDS = 30;

  private PartitionReport() {}

  /**
   * One request sent straight to the frontend, without the SDK's retries, during a partition.
   *
   * @param status 0 when no answer came within the probe's timeout
   */
  public record Probe(long sinceCutNanos, long tookNanos, int status, String retryAfter) {}

  /**
   * What the clients saw.
   *
   * @param errors per kind: the server's status and type ({@code 503 no_worker}), a connection that
   *     could not be made ({@code connect timeout}, {@code cannot reach (...)})
   * @param lost requests that reached the frontend and got no answer, or hung
   * @param first503Seconds from the cut to the first probe answered 503; NaN when none was
   * @param slowest503Millis the longest a probe took to be answered 503
   * @param unansweredBefore503 probes without an answer within their 5 s before the first 503
   *     (while the failure detector had not yet marked the workers unreachable)
   * @param unansweredAfter503 probes without an answer after the first 503
   * @param healSeconds from the links' return to full capacity; NaN when not within 90 s
   */
  public record Row(
      PartitionRun.Fault fault,
      int requests,
      int ok,
      Map<String, Integer> errors,
      int lost,
      int wrong,
      long p99Millis,
      long maxMillis,
      long rejoins,
      double first503Seconds,
      long slowest503Millis,
      boolean retryAfterOn503,
      int unansweredBefore503,
      int unansweredAfter503,
      double healSeconds,
      String notes) {

    public int errorCount() {
      return errors.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Why this row is not acceptable; empty when it is. */
    public List<String> problems() {
      List<String> p = new ArrayList<>();
      if (requests == 0) {
        p.add("no request ran through the partition");
      }
      if (lost > 0) {
        p.add(lost + " lost: " + notes);
      }
      if (wrong > 0) {
        p.add(wrong + " wrong: " + notes);
      }
      if (fault == PartitionRun.Fault.ONE_WORKER && !errors.isEmpty()) {
        p.add("errors while the other worker served: " + errors);
      }
      errors.keySet().stream()
          .filter(kind -> !clear(kind))
          .forEach(kind -> p.add("an error of no clear kind: " + kind));
      if (fault == PartitionRun.Fault.BOTH_WORKERS) {
        if (Double.isNaN(first503Seconds)) {
          p.add("no 503 while no worker was reachable");
        } else if (slowest503Millis > REFUSAL_MILLIS || unansweredAfter503 > 0) {
          p.add(
              "the frontend did not refuse at once: slowest 503 "
                  + slowest503Millis
                  + " ms, "
                  + unansweredAfter503
                  + " probe(s) unanswered after the first 503");
        }
        if (!Double.isNaN(first503Seconds) && !retryAfterOn503) {
          p.add("a 503 without Retry-After");
        }
      }
      if (Double.isNaN(healSeconds) || healSeconds > HEAL_SECONDS) {
        p.add("not at full capacity within " + HEAL_SECONDS + " s of the links' return");
      }
      return p;
    }

    private static boolean clear(String kind) {
      return kind.startsWith("503 ") || kind.startsWith("429 ") || kind.startsWith("connect");
    }
  }

  /**
   * Counts the outcomes of the requests in flight during a partition.
   *
   * @param hung requests still without an answer 3 minutes after the partition: lost
   */
  static Row row(
      PartitionRun.Fault fault,
      List<LoadDriver.Outcome> outcomes,
      int hung,
      List<Probe> probes,
      double healSeconds,
      long rejoins) {
    int ok = 0;
    int lost = hung;
    int wrong = 0;
    Map<String, Integer> errors = new TreeMap<>();
    Map<String, Integer> notes = new TreeMap<>();
    List<Long> latencies = new ArrayList<>();
    for (LoadDriver.Outcome o : outcomes) {
      latencies.add(o.millis());
      switch (o.kind()) {
        case OK -> ok++;
        case ERROR -> errors.merge(o.detail(), 1, Integer::sum);
        case WRONG -> {
          wrong++;
          notes.merge("WRONG: " + o.detail(), 1, Integer::sum);
        }
        case LOST -> {
          String connection = connectionError(o.detail());
          if (connection != null) {
            errors.merge(connection, 1, Integer::sum);
          } else {
            lost++;
            notes.merge("LOST: " + o.detail(), 1, Integer::sum);
          }
        }
        default -> throw new IllegalStateException(o.kind().name());
      }
    }
    if (hung > 0) {
      notes.merge("LOST: no answer after 3 minutes", hung, Integer::sum);
    }
    latencies.sort(null);
    long p99 =
        latencies.isEmpty() ? 0 : latencies.get((int) Math.ceil(latencies.size() * 0.99) - 1);
    long max = latencies.isEmpty() ? 0 : latencies.get(latencies.size() - 1);
    double first503 = Double.NaN;
    long slowest503 = 0;
    boolean retryAfter = true;
    int unanswered = 0;
    int before = 0;
    for (Probe probe : probes) {
      if (probe.status() == 503) {
        first503 = Double.isNaN(first503) ? probe.sinceCutNanos() / 1e9 : first503;
        slowest503 = Math.max(slowest503, probe.tookNanos() / 1_000_000);
        retryAfter &= probe.retryAfter() != null;
      } else if (probe.status() == 0 && !Double.isNaN(first503)) {
        unanswered++;
      } else if (probe.status() == 0) {
        before++;
      }
    }
    return new Row(
        fault,
        outcomes.size() + hung,
        ok,
        errors,
        lost,
        wrong,
        p99,
        max,
        rejoins,
        first503,
        slowest503,
        retryAfter,
        before,
        unanswered,
        healSeconds,
        notes.toString());
  }

  /**
   * The kind of a request that never reached the server (the SDK gave up connecting), or null for
   * one that did and got no answer.
   */
  private static String connectionError(String detail) {
    if (detail.contains("HttpConnectTimeoutException")) {
      return "connect timeout";
    }
    if (detail.startsWith("cannot reach")) {
      Matcher m = EXCEPTION.matcher(detail);
      return "connection error (" + (m.find() ? m.group(1) : detail) + ")";
    }
    return null;
  }

  /** The table the chaos tool prints (Markdown). */
  public static String table(List<Row> rows) {
    StringBuilder s =
        new StringBuilder(
            "| partition | requests | ok | errors (kinds) | lost | wrong | p99 ms | max ms"
                + " | in-process rejoins | first 503 after the cut | s back to full capacity |\n"
                + "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) {
      s.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %d | %s | %d | %d | %d | %d | %d | %s | %s |%n",
              r.fault().description,
              r.requests(),
              r.ok(),
              r.errors().isEmpty() ? "0" : r.errorCount() + " " + r.errors(),
              r.lost(),
              r.wrong(),
              r.p99Millis(),
              r.maxMillis(),
              r.rejoins(),
              Double.isNaN(r.first503Seconds())
                  ? "-"
                  : String.format(
                      Locale.ROOT,
                      "%.1f s (%d probe(s) held before it; each 503 in ≤ %d ms)",
                      r.first503Seconds(),
                      r.unansweredBefore503(),
                      r.slowest503Millis()),
              Double.isNaN(r.healSeconds())
                  ? "not healed"
                  : String.format(Locale.ROOT, "%.1f", r.healSeconds())));
    }
    return s.toString();
  }
}

package org.bertserving.tools;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * The load of one cell of the cluster benchmark: threads of this JVM, each with its own keep-alive
 * connection (a {@link Channel}), sending the corpus's requests and checking every row of every
 * answer against the vector its text must have. Two shapes: a fixed number of requests in flight
 * (closed loop: as fast as the cluster answers), or requests paced at a fixed rate (open loop:
 * latency from each request's planned start, so a stalled server cannot hide its queue).
 */
final class CellLoad {
  /** What one request came back as. */
  record Answer(int status, String format, float[][] vectors, String error) {}

  /** One connection's way of sending block {@code b} of the corpus. */
  interface Channel extends AutoCloseable {
    Answer call(int block) throws Exception;

    @Override
    default void close() {}
  }

  /** What happened in the measured window. */
  record Tally(
      long requests,
      long okRows,
      long lostRows,
      long misplacedRows,
      long[] addedNanos,
      Map<String, Long> statuses,
      TreeSet<String> formats,
      String firstError) {

    double quantileMillis(double q) {
      if (addedNanos.length == 0) {
        return Double.NaN;
      }
      return addedNanos[Math.max(0, (int) Math.ceil(addedNanos.length * q) - 1)] / 1e6;
    }
  }

  private final Corpus corpus;
  private final AtomicLong next = new AtomicLong();

  CellLoad(Corpus corpus) {
    this.corpus = corpus;
  }

  /**
   * {@code inFlight} requests at all times for {@code warm + measure} ns; counts the answers that
   * arrive within the last {@code measure} ns. {@code window} runs at the window's start and end.
   */
  Tally closed(
      IntFunction<Channel> channels, int inFlight, long warm, long measure, Runnable window)
      throws InterruptedException {
    return run(channels, inFlight, 0, warm, measure, window);
  }

  /**
   * Requests started every {@code 1/perSecond} s over {@code connections} connections; latency from
   * each one's planned start; the requests planned within the last {@code measure} ns count.
   */
  Tally paced(
      IntFunction<Channel> channels,
      int connections,
      double perSecond,
      long warm,
      long measure,
      Runnable window)
      throws InterruptedException {
    return run(channels, connections, (long) (1e9 / perSecond), warm, measure, window);
  }

  private Tally run(
      IntFunction<Channel> channels,
      int threads,
      long period,
      long warm,
      long measure,
      Runnable window)
      throws InterruptedException {
    long start = System.nanoTime() + 50_000_000L; // every thread connected before
    long from = start + warm;
    long to = from + measure;
    long first = next.get();
    List<Sender> senders = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      senders.add(new Sender(channels.apply(t), period, start, first, from, to));
    }
    senders.forEach(Thread::start);
    park(from);
    window.run();
    park(to);
    window.run();
    for (Sender s : senders) {
      s.join();
    }
    return merge(senders);
  }

  private static void park(long until) {
    for (long left = until - System.nanoTime(); left > 0; left = until - System.nanoTime()) {
      LockSupport.parkNanos(left);
    }
  }

  private Tally merge(List<Sender> senders) {
    long requests = 0;
    long ok = 0;
    long lost = 0;
    long misplaced = 0;
    int n = 0;
    Map<String, Long> statuses = new TreeMap<>();
    TreeSet<String> formats = new TreeSet<>();
    String error = null;
    for (Sender s : senders) {
      requests += s.requests;
      ok += s.ok;
      lost += s.lost;
      misplaced += s.misplaced;
      n += s.count;
      s.statuses.forEach((k, v) -> statuses.merge(k, v, Long::sum));
      formats.addAll(s.formats);
      error = error != null ? error : s.error;
    }
    long[] added = new long[n];
    int at = 0;
    for (Sender s : senders) {
      System.arraycopy(s.added, 0, added, at, s.count);
      at += s.count;
    }
    Arrays.sort(added);
    return new Tally(requests, ok, lost, misplaced, added, statuses, formats, error);
  }

  /** One connection's thread. */
  private final class Sender extends Thread {
    private final Channel channel;
    private final long period;
    private final long start;
    private final long first;
    private final long from;
    private final long to;
    long requests;
    long ok;
    long lost;
    long misplaced;
    long[] added = new long[1024];
    int count;
    final Map<String, Long> statuses = new TreeMap<>();
    final TreeSet<String> formats = new TreeSet<>();
    String error;

    Sender(Channel channel, long period, long start, long first, long from, long to) {
      super("bench-load");
      setDaemon(true);
      this.channel = channel;
      this.period = period;
      this.start = start;
      this.first = first;
      this.from = from;
      this.to = to;
    }

    @Override
    public void run() {
      try (channel) {
        while (true) {
          long k = next.getAndIncrement();
          long planned = period > 0 ? start + (k - first) * period : 0;
          if (period > 0) {
            if (planned >= to) {
              return;
            }
            park(planned);
          } else if (System.nanoTime() >= to) {
            return;
          }
          int block = (int) (k % corpus.blocks());
          long sent = period > 0 ? planned : System.nanoTime();
          Answer answer;
          try {
            answer = channel.call(block);
          } catch (Exception e) {
            answer = new Answer(-1, "", null, e.toString());
          }
          long done = System.nanoTime();
          boolean counts = period > 0 ? planned >= from : done >= from && done < to;
          if (counts) {
            tally(block, answer, done - sent - corpus.engineNanos(block));
          }
        }
      }
    }

    private void tally(int block, Answer answer, long addedNanos) {
      requests++;
      statuses.merge(
          answer.status() < 0 ? "failed" : String.valueOf(answer.status()), 1L, Long::sum);
      if (answer.status() != 200 || answer.vectors() == null) {
        lost += Corpus.ROWS;
        error = error != null ? error : answer.status() + " " + answer.error();
        return;
      }
      formats.add(answer.format());
      float[][] rows = answer.vectors();
      int returned = Math.min(rows.length, Corpus.ROWS);
      lost += Corpus.ROWS - returned;
      misplaced += Math.max(0, rows.length - Corpus.ROWS); // rows that belong to no text sent
      for (int i = 0; i < returned; i++) {
        if (corpus.matches(block, i, rows[i])) {
          ok++;
        } else {
          misplaced++;
        }
      }
      if (count == added.length) {
        added = Arrays.copyOf(added, count * 2);
      }
      added[count++] = addedNanos;
    }
  }
}

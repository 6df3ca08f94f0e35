package org.bertserving.cluster;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Admission by work, plain Java: the frontend's estimate of the tokens it has accepted and not yet
 * had computed, against the speed it measures of its workers (tokens per busy second, first from
 * each worker's warm-up, then from every job it finishes). A request that could not finish within
 * its timeout is refused before it is queued: 429 with the seconds until it would fit, or 413 when
 * it could not finish even alone. Work that will certainly time out is never admitted.
 *
 * <p>Several frontends share the workers: each publishes its backlog ({@link LoadShare}) and
 * decides against the cluster's, its own plus the others' latest, since every frontend measures the
 * same workers. Their news arrives a few milliseconds late, so that two frontends hit by one burst
 * cannot each fill the whole budget before they hear of each other, a frontend takes, between two
 * news from the others, at most its share of the free budget ({@code 1/N} of it with {@code N}
 * frontends). A frontend that holds no work takes one request whatever its share (else a request
 * over the share would never go): two idle frontends hit at once overshoot by a request each at
 * most.
 */
final class Admission {
  /** Share of the request timeout that queued work may fill; the rest absorbs estimation error. */
  static final double MARGIN = 0.8;

  /** Weight of the newest measurement of a full job in a worker's moving average. */
  private static final double WEIGHT = 0.3;

  /**
   * The rows of a full job as the workers' warm-up measures it ({@code WorkerEngine#warmUp}: 16
   * rows of {@code max_seq_len} tokens, 64 at most).
   */
  static final int FULL_JOB_ROWS = 16;

  static final int FULL_JOB_LENGTH = 64;

  /** What a request still owes: its rows not yet done, at its tokens per row. */
  private static final class Owed {
    final double tokensPerRow;
    int rows;

    Owed(double tokensPerRow, int rows) {
      this.tokensPerRow = tokensPerRow;
      this.rows = rows;
    }
  }

  /** The outcome: {@code status} 0 admits; otherwise 413 or 429 with a reason. */
  record Decision(int status, int retryAfterSeconds, String reason) {
    static final Decision ADMIT = new Decision(0, 0, null);
  }

  private final double timeoutSeconds;
  private final int maxTokensPerText;

  /**
   * The tokens of a full job, as the warm-up measures it. A smaller job's speed counts in
   * proportion to its tokens: a job of one short text spends most of its time on the run's fixed
   * cost (a 3-token query: about 600 tokens/s on a worker that does 8,500 in full jobs), and 60
   * such queries at full weight had cut the estimate so far that a batch of 2,048 texts the worker
   * does in 10 s was refused with 413. Under load the queue cuts full jobs, so the speed of full
   * jobs is the one the backlog drains at.
   */
  private final double fullJobTokens;

  private final Map<Object, Double> speed = new HashMap<>();
  private final Map<String, Owed> owed = new HashMap<>();
  private double backlog;

  /** The other frontends' backlog (tokens) as they last published it, and how many they are. */
  private double others;

  private int otherFrontends;

  /** Tokens admitted since the last news from the others, and this backlog at that news. */
  private double sinceNews;

  private double backlogAtNews;

  /**
   * @param maxTokensPerText what one text costs at most ({@code max_seq_len}, or the model's limit)
   */
  Admission(Duration timeout, int maxTokensPerText) {
    this.timeoutSeconds = timeout.toMillis() / 1000.0;
    this.maxTokensPerText = maxTokensPerText;
    this.fullJobTokens = FULL_JOB_ROWS * (double) Math.min(FULL_JOB_LENGTH, maxTokensPerText);
  }

  /**
   * Word pieces a text will cost, estimated without the vocabulary (frontends hold no model): about
   * 1.3 pieces a word plus {@code [CLS]}/{@code [SEP]} (a sentence pair: both sides), cut at {@code
   * max_seq_len}.
   */
  long estimate(List<?> inputs, boolean isTokenized) {
    long tokens = 0;
    for (Object input : inputs) {
      int pieces;
      if (isTokenized) {
        pieces = ((List<?>) input).size() + 2;
      } else if (input instanceof java.util.Map<?, ?> pair) {
        // a sentence pair, [CLS] a [SEP] b [SEP], or one text written as {"text": ...}
        int words = 0;
        for (Object side : pair.values()) {
          words += words(String.valueOf(side));
        }
        pieces = (int) Math.ceil(words * 1.3) + 1 + pair.size();
      } else {
        pieces = (int) Math.ceil(words((String) input) * 1.3) + 2;
      }
      tokens += Math.min(maxTokensPerText, pieces);
    }
    return tokens;
  }

  private static int words(String text) {
    int words = 0;
    boolean in = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean word = Character.isLetterOrDigit(c);
      if (word && !in) {
        words++;
      } else if (!word && !Character.isWhitespace(c)) {
        words++; // punctuation is a piece of its own
      }
      in = word;
    }
    return words;
  }

  /** What one text costs at most, in tokens: the model's {@code max_seq_len}. */
  int maxTokensPerText() {
    return maxTokensPerText;
  }

  /** A worker's speed as measured at its warm-up. */
  void workerJoined(Object worker, double tokensPerSecond) {
    if (tokensPerSecond > 0) {
      speed.put(worker, tokensPerSecond);
    }
  }

  void workerLeft(Object worker) {
    speed.remove(worker);
  }

  /**
   * A job finished: {@code tokens} real tokens in {@code nanos} of the worker's time, weighed by
   * its size ({@link #fullJobTokens}).
   */
  void observed(Object worker, long tokens, long nanos) {
    if (tokens <= 0 || nanos <= 0) {
      return;
    }
    double measured = tokens / (nanos / 1e9);
    double weight = WEIGHT * Math.min(1, tokens / fullJobTokens);
    speed.merge(worker, measured, (old, now) -> old * (1 - weight) + now * weight);
  }

  /** Tokens per second of all workers together; 0 while none has been measured. */
  double capacity() {
    return speed.values().stream().mapToDouble(Double::doubleValue).sum();
  }

  /** Seconds the accepted work needs at the measured capacity. */
  double backlogSeconds() {
    double capacity = capacity();
    return capacity == 0 ? 0 : backlog / capacity;
  }

  /** Tokens this frontend admitted and that are not computed yet: what it publishes. */
  double backlogTokens() {
    return backlog;
  }

  /** Tokens the cluster may hold queued: the capacity for the budgeted share of the timeout. */
  double budgetTokens() {
    return capacity() * timeoutSeconds * MARGIN;
  }

  /** News from the other frontends: their backlogs' sum and how many they are (0: alone). */
  void others(double backlogTokens, int frontends) {
    others = Math.max(0, backlogTokens);
    otherFrontends = Math.max(0, frontends);
    sinceNews = 0;
    backlogAtNews = backlog;
  }

  /** Frontends sharing the workers as this one knows them, itself included. */
  int frontends() {
    return 1 + otherFrontends;
  }

  /** Seconds the work accepted by every frontend needs at the measured capacity. */
  double clusterBacklogSeconds() {
    double capacity = capacity();
    return capacity == 0 ? 0 : (backlog + others) / capacity;
  }

  Decision decide(long tokens) {
    double capacity = capacity();
    if (capacity == 0) {
      return Decision.ADMIT; // nothing measured yet: max-pending-rows still bounds memory
    }
    double alone = tokens / capacity;
    if (alone > timeoutSeconds) {
      return new Decision(
          413,
          0,
          String.format(
              java.util.Locale.ROOT,
              "this request needs about "
                  + "%.0f s at the measured %.0f tokens/s, more than the request timeout of %.0f s "
                  + "(bert-serving.frontend.request-timeout): send fewer texts per request",
              alone,
              capacity,
              timeoutSeconds));
    }
    double queued = backlog + others;
    double wait = (queued + tokens) / capacity;
    double budget = timeoutSeconds * MARGIN;
    if (queued > 0 && wait > budget) {
      int retryAfter = (int) Math.max(1, Math.ceil(wait - budget));
      return new Decision(
          429,
          retryAfter,
          String.format(
              java.util.Locale.ROOT,
              "overloaded: %.0f s of work queued%s at the measured %.0f tokens/s; this request"
                  + " would not finish within the request timeout of %.0f s",
              queued / capacity,
              otherFrontends == 0 ? "" : " by the " + frontends() + " frontends",
              capacity,
              timeoutSeconds));
    }
    double share = (budget * capacity - backlogAtNews - others) / frontends();
    if (otherFrontends > 0 && backlog > 0 && sinceNews + tokens > share) {
      return new Decision(
          429,
          1,
          String.format(
              java.util.Locale.ROOT,
              "overloaded: this frontend took its share of the free capacity (1/%d, %.0f tokens)"
                  + " until it hears from the other frontends again",
              frontends(),
              Math.max(0, share)));
    }
    return Decision.ADMIT;
  }

  void admitted(String requestId, long tokens, int rows) {
    owed.put(requestId, new Owed(tokens / (double) Math.max(1, rows), rows));
    backlog += tokens;
    sinceNews += tokens;
  }

  /** {@code rows} rows of a request were computed. */
  void progressed(String requestId, int rows) {
    Owed o = owed.get(requestId);
    if (o != null) {
      int done = Math.min(rows, o.rows);
      o.rows -= done;
      backlog -= done * o.tokensPerRow;
    }
  }

  void finished(String requestId) {
    Owed o = owed.remove(requestId);
    if (o != null) {
      backlog -= o.rows * o.tokensPerRow;
    }
    if (owed.isEmpty()) {
      backlog = 0; // no drift from rounding
    }
  }
}

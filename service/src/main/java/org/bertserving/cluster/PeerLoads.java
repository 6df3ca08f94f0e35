package org.bertserving.cluster;

import java.util.Map;
import java.util.TreeMap;

/**
 * What a frontend knows of the other frontends' load, plain Java: each one's backlog (tokens
 * admitted and not yet computed) as it last published it, and when that news arrived, on this
 * node's monotonic clock (nodes never compare their clocks). A frontend that stops publishing
 * (stopped, crashed, unreachable, left) is forgotten {@code forgetAfter} after its last news, and
 * its share no longer counts. Also decides when this frontend publishes its own backlog: every
 * {@code interval}, and at once when it moved by a big step since the last publication.
 */
final class PeerLoads {
  /** A step of the backlog, as a share of the cluster's budget, that is published at once. */
  static final double BIG_CHANGE = 0.1;

  private record News(double backlogTokens, Map<String, Double> byModel, long atNanos) {}

  private final long forgetAfterNanos;
  private final long intervalNanos;
  private final Map<String, News> peers = new TreeMap<>();
  private double published = Double.NaN;
  private long publishedAt;

  PeerLoads(java.time.Duration forgetAfter, java.time.Duration interval) {
    this.forgetAfterNanos = forgetAfter.toNanos();
    this.intervalNanos = interval.toNanos();
  }

  /** News from frontend {@code peer} (its address), arriving at {@code nowNanos}. */
  void heard(String peer, double backlogTokens, long nowNanos) {
    heard(peer, backlogTokens, Map.of(), nowNanos);
  }

  /** News from {@code peer} with its backlog per model (each model is admitted on its own). */
  void heard(String peer, double backlogTokens, Map<String, Double> byModel, long nowNanos) {
    Map<String, Double> models = new TreeMap<>();
    if (byModel != null) {
      byModel.forEach(
          (model, tokens) -> {
            if (model != null && tokens != null) {
              models.put(model, tokens(tokens));
            }
          });
    }
    peers.put(peer, new News(tokens(backlogTokens), models, nowNanos));
  }

  /**
   * A backlog as another node published it, fit to add up: a negative one, or one that is not a
   * number (from a node with a bug, or of another version), counts as none.
   */
  private static double tokens(double published) {
    return published > 0 && published < Double.POSITIVE_INFINITY ? published : 0;
  }

  /** The other frontends' backlogs together, per model. */
  Map<String, Double> totalByModel() {
    Map<String, Double> total = new TreeMap<>();
    peers.values().forEach(n -> n.byModel().forEach((m, t) -> total.merge(m, t, Double::sum)));
    return total;
  }

  /** Forgets the frontends without news for {@code forgetAfter}; whether any was. */
  boolean expire(long nowNanos) {
    return peers.values().removeIf(n -> nowNanos - n.atNanos() >= forgetAfterNanos);
  }

  /** The other frontends' backlogs together. */
  double total() {
    return peers.values().stream().mapToDouble(News::backlogTokens).sum();
  }

  int count() {
    return peers.size();
  }

  /** Each other frontend's backlog by its address, for the status. */
  Map<String, Double> byFrontend() {
    Map<String, Double> view = new TreeMap<>();
    peers.forEach((peer, news) -> view.put(peer, news.backlogTokens()));
    return view;
  }

  /**
   * Whether this frontend publishes {@code backlogTokens} now: the first time, when {@code
   * interval} has passed (a heartbeat, even unchanged, so that the others keep counting it), or
   * when it moved by {@link #BIG_CHANGE} of {@code budgetTokens} (the others must not admit on old
   * news). Records the publication when it says yes.
   */
  boolean publish(double backlogTokens, double budgetTokens, long nowNanos) {
    boolean due =
        Double.isNaN(published)
            || nowNanos - publishedAt >= intervalNanos
            || Math.abs(backlogTokens - published) >= Math.max(1, BIG_CHANGE * budgetTokens);
    if (due) {
      published = backlogTokens;
      publishedAt = nowNanos;
    }
    return due;
  }
}

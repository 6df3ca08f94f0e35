package org.bertserving.cluster;

import akka.actor.typed.ActorRef;
import java.util.List;
import org.bertserving.client.protocol.WireMessage;
import org.bertserving.engine.CallOptions;

/**
 * What a worker pulls: rows of one or several requests (cross-request batching), at most {@code
 * max_batch_size} in all, to be run together.
 */
public record Job(List<Segment> segments) implements WireMessage {

  public int rows() {
    return segments.stream().mapToInt(Segment::size).sum();
  }

  /**
   * This job as it leaves for a worker: each deadline as the nanoseconds left at {@code nowNanos}.
   * Nodes never compare each other's clocks; each measures the time left on its own monotonic
   * clock, so a node whose wall clock is hours off keeps every deadline right.
   */
  Job leaving(long nowNanos) {
    return shifted(-nowNanos);
  }

  /**
   * A job that {@link #leaving} sent, as it arrives at {@code nowNanos}: deadlines on this node.
   */
  Job arrived(long nowNanos) {
    return shifted(nowNanos);
  }

  private Job shifted(long nanos) {
    List<Segment> moved = new java.util.ArrayList<>(segments.size());
    for (Segment s : segments) {
      moved.add(
          new Segment(
              s.requestId,
              s.aggregator,
              s.offset,
              s.texts,
              s.tokens,
              s.deadlineNanos + nanos,
              s.failures,
              s.options,
              s.showTokens));
    }
    return new Job(moved);
  }

  /**
   * A consecutive slice of one request, already validated: plain texts, or token lists.
   *
   * @param offset index of the first input within the request
   * @param texts the texts (strings, or sentence pairs as {@code {"text", "text_pair"}} maps, or
   *     one text never split as a {@code {"text"}} map), or {@code null} for tokenized input
   * @param tokens the token lists, or {@code null} for plain texts
   * @param deadlineNanos the {@link System#nanoTime()} after which nobody waits for it any more, on
   *     the node holding the segment; in a job on its way to a worker, the nanoseconds left ({@link
   *     Job#leaving})
   * @param failures how many workers' engines have failed on these rows already
   * @param options the request's own prompt, normalization and dimensions
   * @param showTokens whether the request asked for its tokens: only then do they travel back
   */
  public record Segment(
      String requestId,
      ActorRef<Aggregator.Command> aggregator,
      int offset,
      @com.fasterxml.jackson.databind.annotation.JsonDeserialize(contentUsing = TextInputs.class)
          List<?> texts,
      List<List<String>> tokens,
      long deadlineNanos,
      int failures,
      CallOptions options,
      boolean showTokens)
      implements WireMessage {

    /** Whether its request's time is up at {@code nowNanos} (monotonic, this node's). */
    public boolean expired(long nowNanos) {
      return deadlineNanos - nowNanos < 0;
    }

    public boolean isTokenized() {
      return tokens != null;
    }

    public List<?> inputs() {
      return isTokenized() ? tokens : texts;
    }

    public int size() {
      return inputs().size();
    }

    /** The rows {@code [from, to)} of this segment as a segment of their own. */
    Segment slice(int from, int to) {
      return new Segment(
          requestId,
          aggregator,
          offset + from,
          texts == null ? null : List.copyOf(texts.subList(from, to)),
          tokens == null ? null : List.copyOf(tokens.subList(from, to)),
          deadlineNanos,
          failures,
          options,
          showTokens);
    }

    /**
     * Fails these rows' request: the HTTP status, the error type and a message naming the cause.
     */
    void fail(int status, String type, String message) {
      aggregator.tell(Aggregator.JobResult.failed(requestId, offset, status, type, message));
    }

    /** The same rows after one more engine failed on them. */
    Segment failedOnce() {
      return new Segment(
          requestId,
          aggregator,
          offset,
          texts,
          tokens,
          deadlineNanos,
          failures + 1,
          options,
          showTokens);
    }

    /** Characters of row {@code row}'s text or tokens: what the job message carries of it. */
    long chars(int row) {
      Object input = inputs().get(row);
      if (input instanceof String s) {
        return s.length();
      }
      if (input instanceof java.util.Map<?, ?> pair) {
        long chars = 0;
        for (Object side : pair.values()) {
          chars += String.valueOf(side).length() + 1;
        }
        return chars;
      }
      long chars = 0;
      for (Object token : (List<?>) input) {
        chars += token.toString().length() + 1;
      }
      return chars;
    }
  }
}

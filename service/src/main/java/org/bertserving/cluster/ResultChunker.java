package org.bertserving.cluster;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bertserving.engine.Featurizer.Featurized;
import org.bertserving.engine.InputFeatures;

/**
 * Sends a segment's rows to its aggregator. On the same node, in one message; on another node, in
 * chunks that each fit one Artery frame ({@code akka.remote.artery.advanced.maximum-frame-size}),
 * so that whatever one node can return, a cluster returns. A single row too large for a frame fails
 * its request at once, naming the limit, instead of vanishing into a timeout.
 */
public final class ResultChunker {
  /** Per row: CBOR framing, the row's array headers, the offset. */
  private static final int ROW_OVERHEAD = 64;

  private final long budget;
  private final long frame;

  /**
   * @param frameBytes the Artery frame size; chunks stay under three quarters of it
   */
  public ResultChunker(long frameBytes) {
    this.frame = frameBytes;
    this.budget = frameBytes * 3 / 4;
  }

  /** The rows {@code [from, from + f.rows().size())} of {@code vectors}, for {@code segment}. */
  void send(Job.Segment segment, Featurized f, float[][] vectors, int from, int dim) {
    int n = f.rows().size();
    List<float[]> rows = Arrays.asList(Arrays.copyOfRange(vectors, from, from + n));
    List<List<String>> tokens = f.rows().stream().map(InputFeatures::tokens).toList();
    if (segment.aggregator().path().address().hasLocalScope()) {
      segment
          .aggregator()
          .tell(
              new Aggregator.JobResult(
                  segment.requestId(),
                  segment.offset(),
                  dim,
                  f.outputLength(),
                  rows,
                  tokens,
                  0,
                  null,
                  null));
      return;
    }
    int start = 0;
    long size = 0;
    for (int i = 0; i < n; i++) {
      long row = bytes(rows.get(i), tokens.get(i));
      if (row > budget) {
        segment.fail(
            413,
            "too_large",
            String.format(
                Locale.ROOT,
                "the result of text %d is %.1f MB, over the"
                    + " %.1f MB one message between nodes may carry (akka.remote.artery.advanced."
                    + "maximum-frame-size %d bytes); lower -max_seq_len, pool fewer layers or raise the"
                    + " frame size",
                segment.offset() + i,
                row / 1e6,
                budget / 1e6,
                frame));
        return;
      }
      if (size + row > budget) {
        chunk(segment, f, rows, tokens, start, i, dim);
        start = i;
        size = 0;
      }
      size += row;
    }
    chunk(segment, f, rows, tokens, start, n, dim);
  }

  private static void chunk(
      Job.Segment segment,
      Featurized f,
      List<float[]> rows,
      List<List<String>> tokens,
      int from,
      int to,
      int dim) {
    if (from < to) {
      segment
          .aggregator()
          .tell(
              new Aggregator.JobResult(
                  segment.requestId(),
                  segment.offset() + from,
                  dim,
                  f.outputLength(),
                  new ArrayList<>(rows.subList(from, to)),
                  new ArrayList<>(tokens.subList(from, to)),
                  0,
                  null,
                  null));
    }
  }

  /** What a row weighs as CBOR: 5 bytes a float, its tokens as short strings. */
  static long bytes(float[] row, List<String> tokens) {
    long size = ROW_OVERHEAD + 5L * row.length;
    for (String token : tokens) {
      size += token.length() * 3L + 2;
    }
    return size;
  }
}

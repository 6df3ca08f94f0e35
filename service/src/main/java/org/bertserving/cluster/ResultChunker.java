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
    // the tokens travel only when the request asked for them; their count always does (usage)
    List<List<String>> tokens =
        segment.showTokens() ? f.rows().stream().map(InputFeatures::tokens).toList() : null;
    int[] counts = f.rows().stream().mapToInt(InputFeatures::length).toArray();
    if (segment.aggregator().path().address().hasLocalScope()) {
      chunk(segment, f, rows, tokens, counts, 0, n, dim);
      return;
    }
    int start = 0;
    long size = 0;
    for (int i = 0; i < n; i++) {
      long row = bytes(rows.get(i), tokens == null ? List.of() : tokens.get(i));
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
        chunk(segment, f, rows, tokens, counts, start, i, dim);
        start = i;
        size = 0;
      }
      size += row;
    }
    chunk(segment, f, rows, tokens, counts, start, n, dim);
  }

  private static void chunk(
      Job.Segment segment,
      Featurized f,
      List<float[]> rows,
      List<List<String>> tokens,
      int[] counts,
      int from,
      int to,
      int dim) {
    if (from < to) {
      boolean whole = from == 0 && to == rows.size();
      segment
          .aggregator()
          .tell(
              new Aggregator.JobResult(
                  segment.requestId(),
                  segment.offset() + from,
                  dim,
                  f.outputLength(),
                  whole ? rows : new ArrayList<>(rows.subList(from, to)),
                  tokens == null || whole ? tokens : new ArrayList<>(tokens.subList(from, to)),
                  whole ? counts : Arrays.copyOfRange(counts, from, to),
                  0,
                  null,
                  null));
    }
  }

  /** What a row weighs as CBOR: 4 bytes a float (packed), its tokens as short strings. */
  static long bytes(float[] row, List<String> tokens) {
    long size = ROW_OVERHEAD + 4L * row.length;
    for (String token : tokens) {
      size += token.length() * 3L + 2;
    }
    return size;
  }
}

package org.bertserving.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The few {@code [batch, length]} shapes a worker runs under {@code -xla}. XLA compiles every new
 * input shape (1.5-2 s for BERT-Base on a GPU, stalling the request that brought it), and after
 * about ten compiles of one cluster TensorFlow calls it megamorphic and silently stops compiling.
 * So lengths are padded up to at most four buckets and batches to two sizes, at most eight shapes
 * in all, every one compiled at warm-up: live traffic never compiles.
 */
public final class XlaShapes {
  /** Rows of the small batch shape: a single query pays for these many, a GPU hardly notices. */
  static final int SMALL = 8;

  private final List<Integer> lengths;
  private final int maxBatch;
  private final int tokenBudget;

  /**
   * @param cap the longest row ({@code max_seq_len}, or the model's positions for NONE)
   */
  public XlaShapes(int cap, int maxBatch, int tokenBudget) {
    TreeSet<Integer> buckets = new TreeSet<>();
    buckets.add(cap);
    for (int divisor = 2; divisor <= 8; divisor *= 2) {
      int length = (cap / divisor + 7) / 8 * 8; // a multiple of 8, as kernels like
      if (length >= 8 && length < cap) {
        buckets.add(length);
      }
    }
    this.lengths = List.copyOf(buckets);
    this.maxBatch = maxBatch;
    this.tokenBudget = tokenBudget;
  }

  /** The padded length for rows of at most {@code longest} tokens. */
  public int length(int longest) {
    for (int length : lengths) {
      if (length >= longest) {
        return length;
      }
    }
    return lengths.get(lengths.size() - 1);
  }

  public int small() {
    return Math.min(SMALL, maxBatch);
  }

  /**
   * The large batch at {@code length}: as many rows as the token budget allows, a multiple of 8.
   */
  public int large(int length) {
    int rows = Math.min(maxBatch, Math.max(1, tokenBudget / length));
    return Math.max(small(), rows / small() * small());
  }

  /**
   * Batch shapes that cover {@code rows} rows at {@code length}: full large batches, then the rest
   * in one large batch if it fills more than half of one, else in small ones.
   */
  public List<Integer> batches(int rows, int length) {
    int large = large(length);
    List<Integer> out = new ArrayList<>();
    int left = rows;
    while (left >= large) {
      out.add(large);
      left -= large;
    }
    if (left > large / 2) {
      out.add(large);
    } else {
      for (; left > 0; left -= small()) {
        out.add(small());
      }
    }
    return out;
  }

  /** Every shape, as {@code {batch, length}}: what warm-up compiles. */
  public List<int[]> all() {
    List<int[]> shapes = new ArrayList<>();
    for (int length : lengths) {
      shapes.add(new int[] {small(), length});
      if (large(length) != small()) {
        shapes.add(new int[] {large(length), length});
      }
    }
    return shapes;
  }

  public List<Integer> lengths() {
    return lengths;
  }
}

package org.bertserving.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Cuts rows into TF runs: longest first, so each run pads only to its own longest row; at most
 * {@code maxBatchSize} rows and {@code tokenBudget} rows x padded length per run, so that long
 * texts do not blow up memory. A row longer than the budget still runs, alone.
 */
public final class BatchPlanner {
  private BatchPlanner() {}

  /** Indices into {@code rows}, one array per run. */
  public static List<int[]> plan(List<InputFeatures> rows, int maxBatchSize, int tokenBudget) {
    Integer[] order = new Integer[rows.size()];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparingInt((Integer i) -> rows.get(i).length()).reversed());
    List<int[]> runs = new ArrayList<>();
    int start = 0;
    while (start < order.length) {
      int padded = rows.get(order[start]).length();
      int size = Math.max(1, Math.min(maxBatchSize, tokenBudget / Math.max(1, padded)));
      int end = Math.min(order.length, start + size);
      int[] run = new int[end - start];
      for (int i = start; i < end; i++) {
        run[i - start] = order[i];
      }
      runs.add(run);
      start = end;
    }
    return runs;
  }
}

package org.bertserving.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Cuts rows into slices, longest first, each slice one TensorFlow run padded only to its own
 * longest row, at most {@code maxBatchSize} rows and {@code tokenBudget} rows x padded length a
 * slice (long texts cannot blow up memory; a row longer than the budget still runs, alone). Within
 * those bounds, the cut that costs least by the {@link CostModel}: a slice of mixed lengths pays
 * for its longest, a slice more pays a run's overhead, so mixed lengths get slices of their own
 * length when that is cheaper.
 */
public final class BatchPlanner {
  private BatchPlanner() {}

  /**
   * What a TensorFlow run costs, in seconds: {@code overhead + rows x length x (token + length x
   * attention)}. The quadratic term is attention's, the rest grows with padded tokens.
   *
   * @param overhead seconds a run costs whatever its size (session call, feeds, kernel launches)
   * @param token seconds per padded token of the linear layers
   * @param attention seconds per padded token per token of length (scores and context)
   */
  public record CostModel(double overhead, double token, double attention) {
    /** Before a worker has measured itself: a run costs about as much as 100 tokens. */
    public static final CostModel DEFAULT = new CostModel(1e-3, 1e-5, 1e-5 / 4096);

    double seconds(int rows, int length) {
      return overhead + rows * (double) length * (token + length * attention);
    }

    /**
     * The model from two measured runs: one row of {@code shortLength}, and {@code rows} rows of
     * {@code length}; attention's share from the model's width (per token and layer, the linear
     * layers do about 24 x hidden^2 multiply-adds, attention 4 x length x hidden).
     */
    public static CostModel measured(
        double oneShort, int shortLength, double many, int rows, int length, int hidden) {
      double attentionPerToken = 1.0 / (6.0 * hidden); // of the linear cost, per token of length
      double unitsShort = shortLength * (1 + shortLength * attentionPerToken);
      double unitsMany = rows * (double) length * (1 + length * attentionPerToken);
      double token = Math.max(1e-9, (many - oneShort) / Math.max(1, unitsMany - unitsShort));
      double overhead = Math.max(0, oneShort - token * unitsShort);
      return new CostModel(overhead, token, token * attentionPerToken);
    }
  }

  /** Indices into {@code rows}, one array per slice, by {@link CostModel#DEFAULT}. */
  public static List<int[]> plan(List<InputFeatures> rows, int maxBatchSize, int tokenBudget) {
    return plan(rows, maxBatchSize, tokenBudget, CostModel.DEFAULT);
  }

  /** Indices into {@code rows}, one array per slice: the cheapest cut by {@code cost}. */
  public static List<int[]> plan(
      List<InputFeatures> rows, int maxBatchSize, int tokenBudget, CostModel cost) {
    int n = rows.size();
    Integer[] order = new Integer[n];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparingInt((Integer i) -> rows.get(i).length()).reversed());
    // best[j]: the cheapest plan of the j longest rows; from[j]: where its last slice starts
    double[] best = new double[n + 1];
    int[] from = new int[n + 1];
    for (int j = 1; j <= n; j++) {
      best[j] = Double.MAX_VALUE;
      for (int i = j - 1; i >= 0; i--) {
        int length = rows.get(order[i]).length(); // the slice's longest row: it pads to this
        int size = j - i;
        if (size > 1 && (size > maxBatchSize || (long) size * length > tokenBudget)) {
          break; // longer slices from here on are over a bound too
        }
        double total = best[i] + cost.seconds(size, length);
        if (total < best[j]) {
          best[j] = total;
          from[j] = i;
        }
      }
    }
    List<int[]> slices = new ArrayList<>();
    for (int j = n; j > 0; j = from[j]) {
      int[] slice = new int[j - from[j]];
      for (int k = from[j]; k < j; k++) {
        slice[k - from[j]] = order[k];
      }
      slices.add(0, slice);
    }
    return slices;
  }
}

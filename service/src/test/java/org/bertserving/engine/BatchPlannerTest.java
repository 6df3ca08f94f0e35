package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bertserving.engine.BatchPlanner.CostModel;
import org.junit.jupiter.api.Test;

/** How rows are cut into slices: every row once, within the bounds, the cheapest cut by cost. */
class BatchPlannerTest {

  static List<InputFeatures> rows(int... lengths) {
    List<InputFeatures> rows = new ArrayList<>();
    for (int length : lengths) {
      rows.add(new InputFeatures(new int[length], new int[length], new int[length], List.of()));
    }
    return rows;
  }

  static void assertEveryRowOnce(List<int[]> slices, int n) {
    int[] seen = new int[n];
    slices.forEach(slice -> Arrays.stream(slice).forEach(i -> seen[i]++));
    assertTrue(Arrays.stream(seen).allMatch(c -> c == 1), Arrays.toString(seen));
  }

  @Test
  void mixedLengthsGetSlicesOfTheirOwnLengthWhenThatIsCheaper() {
    // 128 rows of 40 tokens and 128 of 5: one slice padded to 40 costs 256 x 40 tokens; two
    // slices cost 128 x 40 + 128 x 5 and one run's overhead more
    int[] lengths = new int[256];
    Arrays.fill(lengths, 0, 128, 40);
    Arrays.fill(lengths, 128, 256, 5);
    List<InputFeatures> rows = rows(lengths);
    CostModel cheapRuns = new CostModel(1e-3, 1e-5, 0);
    List<int[]> slices = BatchPlanner.plan(rows, 256, 1 << 20, cheapRuns);
    assertEquals(2, slices.size());
    assertEveryRowOnce(slices, 256);
    assertTrue(
        Arrays.stream(slices.get(1)).allMatch(i -> rows.get(i).length() == 5),
        "the short ones alone");

    // when a run costs more than the padding it saves, one slice
    CostModel dearRuns = new CostModel(1.0, 1e-5, 0);
    assertEquals(1, BatchPlanner.plan(rows, 256, 1 << 20, dearRuns).size());
  }

  @Test
  void boundsHoldWhateverTheCost() {
    List<InputFeatures> rows = rows(30, 30, 30, 30, 30, 10, 10, 10, 100);
    List<int[]> slices = BatchPlanner.plan(rows, 3, 1 << 20, new CostModel(10, 1e-5, 0));
    assertEveryRowOnce(slices, rows.size());
    slices.forEach(slice -> assertTrue(slice.length <= 3, "max_batch_size"));
    List<int[]> budget = BatchPlanner.plan(rows, 256, 90, new CostModel(10, 1e-5, 0));
    assertEveryRowOnce(budget, rows.size());
    for (int[] slice : budget) {
      int longest = Arrays.stream(slice).map(i -> rows.get(i).length()).max().orElseThrow();
      assertTrue(slice.length == 1 || slice.length * longest <= 90, "token budget");
      assertEquals(longest, rows.get(slice[0]).length(), "each slice starts with its longest row");
    }
  }

  @Test
  void aMeasuredModelSplitsOverheadFromPerTokenCost() {
    // one row of 8 tokens in 12 ms; 16 rows of 40 tokens in 100 ms
    CostModel m = CostModel.measured(0.012, 8, 0.100, 16, 40, 768);
    assertEquals(0.012, m.seconds(1, 8), 1e-6);
    assertEquals(0.100, m.seconds(16, 40), 1e-6);
    assertTrue(m.overhead() > 0.010 && m.overhead() < 0.012, "overhead " + m.overhead());
  }

  /**
   * A worker's engine measures its own cost model at start (what {@code calibrate} does before it
   * registers), plans every call with it, and padding a row among longer ones changes nothing.
   */
  @Test
  void theEngineCalibratesItsCostModelAndSlicesMixedLengthsAsItPlans() throws Exception {
    try (BertEncoder engine =
        BertEncoder.load(
            EngineSettings.builder()
                .modelDir(org.bertserving.server.TestNodes.tinyModel())
                .maxSeqLen(64)
                .build())) {
      assertEquals(CostModel.DEFAULT, engine.costModel(), "before it measured itself");
      engine.calibrate(16, 32);
      CostModel measured = engine.costModel();
      assertTrue(!measured.equals(CostModel.DEFAULT), "measured: " + measured);
      assertTrue(measured.overhead() >= 0 && measured.token() > 0, measured.toString());
      assertEquals(
          measured.token() / (6.0 * engine.config().hiddenSize()),
          measured.attention(),
          1e-18,
          "attention's share from the model's width");

      List<String> texts = new ArrayList<>();
      for (int i = 0; i < 24; i++) {
        texts.add(i % 3 == 0 ? "the dog sat on the mat . ".repeat(6).strip() : "hello world");
      }
      List<InputFeatures> rows = engine.featurizer().featurize(texts, false).rows();
      int planned =
          BatchPlanner.plan(
                  rows, engine.settings().maxBatchSize(), engine.settings().tokenBudget(), measured)
              .size();
      long before = engine.tfRuns();
      float[][] together = engine.encode(texts);
      assertEquals(planned, engine.tfRuns() - before, "one TensorFlow run per planned slice");
      for (int i = 0; i < 3; i++) {
        float[] alone = engine.encode(List.of(texts.get(i)))[0];
        for (int d = 0; d < alone.length; d++) {
          assertEquals(alone[d], together[i][d], 1e-5, "text " + i + " alone and among others");
        }
      }
    }
  }
}

package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The benchmark's table of the products' kernels, timed on real TensorFlow sessions. */
class KernelsTableTest {
  private static final Pattern CELL = Pattern.compile(" (\\d+) \\((\\d+)\\) \\|");

  @Test
  void everyKernelInBothTypesIsTimedAndItsRateFollowsFromItsTime() {
    int all = Runtime.getRuntime().availableProcessors();
    List<String> lines = ThreadsTable.kernels(64, 96, true, new int[][] {{256, 1}, {512, 0}});

    assertEquals(6, lines.size(), String.join("\n", lines));
    assertEquals(
        "| a product of 64 x 96 plus a bias, µs a run (GFLOP/s) | 256 rows, 1 thread | 512 rows, "
            + all
            + (all == 1 ? " thread |" : " threads |"),
        lines.get(0));
    assertEquals("|---|---:|---:|", lines.get(1));
    List<String> kinds =
        List.of(
            "float32, oneDNN's inner product (fused)",
            "float32, matrix multiply (plain)",
            "bfloat16, oneDNN's inner product (fused)",
            "bfloat16, matrix multiply (plain)");
    int[] rows = {256, 512};
    for (int k = 0; k < kinds.size(); k++) {
      String line = lines.get(k + 2);
      assertTrue(line.startsWith("| " + kinds.get(k) + " |"), line);
      Matcher cell = CELL.matcher(line);
      for (int r : rows) {
        assertTrue(cell.find(), line);
        double micros = Double.parseDouble(cell.group(1));
        double gflops = Double.parseDouble(cell.group(2));
        assertTrue(micros > 0, line);
        // the rate is the cell's own time: 2 x rows x in x out over it, rounded
        assertEquals(2.0 * r * 64 * 96 / micros / 1e3, gflops, 0.5 + gflops * 0.01, line);
      }
      assertTrue(!cell.find(), line);
    }
  }

  @Test
  void withoutBfloat16OnlyFloat32IsTimed() {
    List<String> lines = ThreadsTable.kernels(32, 32, false, new int[][] {{8, 1}});

    assertEquals(4, lines.size(), String.join("\n", lines));
    assertTrue(lines.stream().noneMatch(l -> l.contains("bfloat16")), String.join("\n", lines));
  }
}

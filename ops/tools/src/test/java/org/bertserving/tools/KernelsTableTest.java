package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The benchmark's table of the products' kernels, timed on real TensorFlow sessions. */
class KernelsTableTest {
  private static final Pattern CELL = Pattern.compile(" (\\d+) \\((\\d+)\\) \\|");

  @Test
  void everyKernelInBothTypesIsTimedInEveryColumn() {
    List<KernelsTable.Cell> cells =
        List.of(new KernelsTable.Cell(8, 1), new KernelsTable.Cell(64, 2));
    List<String> lines = KernelsTable.lines(64, 96, true, cells);

    assertEquals(6, lines.size(), String.join("\n", lines));
    assertEquals(
        "| a product of 64 x 96 plus a bias, µs a run (GFLOP/s) | 8 rows, 1 thread | 64 rows, 2"
            + " threads |",
        lines.get(0));
    assertEquals("|---|---:|---:|", lines.get(1));
    List<String> kinds =
        List.of(
            "float32, oneDNN's inner product (fused)",
            "float32, matrix multiply (plain)",
            "bfloat16, oneDNN's inner product (fused)",
            "bfloat16, matrix multiply (plain)");
    for (int k = 0; k < kinds.size(); k++) {
      String line = lines.get(k + 2);
      assertTrue(line.startsWith("| " + kinds.get(k) + " |"), line);
      Matcher cell = CELL.matcher(line);
      for (KernelsTable.Cell c : cells) {
        assertTrue(cell.find(), "a timed cell for " + c + " in " + line);
        assertTrue(Double.parseDouble(cell.group(1)) > 0, line);
      }
      assertFalse(cell.find(), line);
    }
  }

  @Test
  void aCellIsItsTimeAndTheRateOfItsWorkInThatTime() {
    // 2 x 512 x 384 x 1536 flop in 3,049 µs: 198 GFLOP/s
    assertEquals(" 3049 (198) |", KernelsTable.cell(3049.4, 2.0 * 512 * 384 * 1536));
    assertEquals(" 159 (119) |", KernelsTable.cell(159.0, 2.0 * 16 * 384 * 1536));
  }

  @Test
  void withoutBfloat16OnlyFloat32IsTimed() {
    List<String> lines = KernelsTable.lines(32, 32, false, List.of(new KernelsTable.Cell(8, 1)));

    assertEquals(4, lines.size(), String.join("\n", lines));
    assertTrue(lines.stream().noneMatch(l -> l.contains("bfloat16")), String.join("\n", lines));
  }

  @Test
  void theColumnsAreSmallAndLargeRunsOnOneThreadAndALargeOneOnEveryCore() {
    int all = Runtime.getRuntime().availableProcessors();
    assertEquals(
        List.of(
            new KernelsTable.Cell(16, 1),
            new KernelsTable.Cell(128, 1),
            new KernelsTable.Cell(512, 1),
            new KernelsTable.Cell(512, all)),
        KernelsTable.cells());
  }
}

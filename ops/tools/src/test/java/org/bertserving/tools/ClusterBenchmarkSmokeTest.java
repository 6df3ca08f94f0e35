package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The cluster benchmark's smallest cell, end to end: a frontend JVM and a worker JVM over Artery
 * TLS, the worker's engine the synthetic backend named by {@code bert-serving.engine.backend},
 * every row of every answer checked against its text's tokens. Only that it works is asserted (rows
 * answered, none lost or misplaced), never its speed.
 */
class ClusterBenchmarkSmokeTest {

  @Test
  void theSmallestCellAnswersEveryRowRight() throws Exception {
    BenchOptions options =
        BenchOptions.parse(
            "--gpus",
            "1",
            "--frontends",
            "1",
            "--routes",
            "json",
            "--seconds",
            "1",
            "--max-warm",
            "3", // one warm-up slice: nothing here is a figure to keep
            "--inflight",
            "4",
            "--no-sdk",
            "--logs",
            "target/cluster-bench");
    List<BenchTable.Cell> cells = ClusterBenchmark.run(options);
    assertEquals(1, cells.size());
    BenchTable.Cell cell = cells.get(0);
    assertTrue(cell.rowsPerSecond() > 0, cell.row());
    assertEquals("JSON", cell.formats(), cell.row());
    assertEquals(0, cell.lost(), cell.row());
    assertEquals(0, cell.misplaced(), cell.row());
    assertTrue(cell.frontendMicrosPerRow() > 0 && cell.workerMicrosPerRow() > 0, cell.row());
  }
}

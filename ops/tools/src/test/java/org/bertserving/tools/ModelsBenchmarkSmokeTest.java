package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The second-model benchmark's smallest run, end to end: a frontend JVM, a worker JVM of model A,
 * then one of model B joining, B's load beside A's, B's worker leaving; every row of both models
 * checked against its own model's vector. Only that it works is asserted (rows answered in every
 * column, none lost or misplaced, B's rows answered in the loaded column only), never its speed.
 */
class ModelsBenchmarkSmokeTest {

  @Test
  void everyColumnAnswersEachModelsRowsFromItsOwnWorkers() throws Exception {
    ModelsBenchmark.Options options =
        ModelsBenchmark.Options.parse(
            "--quick",
            "--gpus",
            "1",
            "--seconds",
            "1",
            "--max-warm",
            "3",
            "--inflight",
            "4",
            "--logs",
            "target/models-bench");
    List<List<ModelsColumn>> columns = ModelsBenchmark.run(options);
    assertEquals(
        List.of("A alone", "A + idle B", "A + loaded B"),
        columns.stream().map(c -> c.get(0).label()).toList());
    for (List<ModelsColumn> rounds : columns) {
      ModelsColumn c = rounds.get(0);
      assertTrue(c.aRowsPerSecond() > 0 && c.pacedRowsPerSecond() > 0, c.label());
      assertEquals(0, c.lostA(), c.label());
      assertEquals(0, c.misplacedA(), c.label());
      assertTrue(c.usage().frontend() > 0, c.label());
    }
    ModelsColumn loaded = columns.get(2).get(0);
    assertTrue(loaded.b().okRows() > 0, "B's load answered");
    assertEquals(0, loaded.b().lostRows());
    assertEquals(0, loaded.b().misplacedRows());
    assertEquals(null, columns.get(1).get(0).b(), "B idle: none of its requests sent");
  }
}

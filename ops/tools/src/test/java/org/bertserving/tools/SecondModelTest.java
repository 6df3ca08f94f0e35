package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.Vectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The second-model benchmark's pure parts: a row answered by the other model's worker is caught as
 * misplaced, every request names its model, the side-by-side table and the options.
 */
class SecondModelTest {

  @Test
  void aRowFromTheOtherModelsWorkerIsMisplaced(@TempDir Path dir) throws Exception {
    Path a = SyntheticModel.write(dir.resolve("model-a"), 64, 0);
    Path b = SyntheticModel.write(dir.resolve("model-b"), 64, 97);
    Corpus as = Corpus.build(a, 4, 40, 64, SyntheticBackend.Timing.NONE, "model-a");
    Corpus bs = Corpus.build(b, 4, 40, 64, SyntheticBackend.Timing.NONE, "model-b");
    try (BertEncoder onA = worker(a);
        BertEncoder onB = worker(b)) {
      for (int block = 0; block < as.blocks(); block++) {
        float[][] fromA = onA.encode(as.block(block));
        float[][] fromB = onB.encode(as.block(block));
        for (int i = 0; i < Corpus.ROWS; i++) {
          assertTrue(as.matches(block, i, fromA[i]), "A's worker answers A's row " + i);
          assertFalse(as.matches(block, i, fromB[i]), "B's worker's row " + i + " is not A's");
          assertTrue(bs.matches(block, i, fromB[i]), "B's worker answers B's row " + i);
          assertFalse(bs.matches(block, i, fromA[i]), "A's worker's row " + i + " is not B's");
          // OpenAI's route answers the row at unit length: still A's row, never B's
          assertTrue(as.matches(block, i, Vectors.unit(fromA[i])), "A's row at unit length " + i);
          assertFalse(as.matches(block, i, Vectors.unit(fromB[i])), "B's row at unit length " + i);
        }
      }
    }
    for (BenchRoute route : BenchRoute.values()) {
      String body = new String(as.body(route, 0), StandardCharsets.UTF_8);
      assertTrue(body.startsWith("{\"model\":\"model-a\","), route + ": " + body);
    }
  }

  /** A worker's engine on the model folder {@code model}, as the worker JVMs open it. */
  private static BertEncoder worker(Path model) throws Exception {
    return BertEncoder.load(
        EngineSettings.builder().modelDir(model).maxSeqLen(40).build(),
        (files, declared, s) -> new SyntheticBackend.Gpu(declared, SyntheticBackend.Timing.NONE));
  }

  @Test
  void theTableSetsEachColumnBesideItsRatioToTheFirst() {
    String table =
        new ModelsTable(List.of("A alone", "A + idle B", "A + loaded B"))
            .add("A rows/s", "%.0f", true, 20000, 19000, 15000)
            .add("B p99 ms", "%.2f", false, Double.NaN, Double.NaN, 1.5)
            .add("B CPU", "%.2f", true, 0, 0.1, 0.5)
            .render("model A");
    assertEquals(
        "| model A | A alone | A + idle B | × | A + loaded B | × |\n"
            + "|---|---:|---:|---:|---:|---:|\n"
            + "| A rows/s | 20000 | 19000 | 0.95 | 15000 | 0.75 |\n"
            + "| B p99 ms | - | - |  | 1.50 |  |\n"
            + "| B CPU | 0.00 | 0.10 | - | 0.50 | - |\n",
        table);
    assertThrows(
        IllegalArgumentException.class,
        () -> new ModelsTable(List.of("A alone")).add("x", "%.0f", true, 1, 2));
    assertEquals(2.0, ModelsReport.median(java.util.stream.DoubleStream.of(3, Double.NaN, 1, 2)));
    assertEquals(2.5, ModelsReport.median(java.util.stream.DoubleStream.of(4, 1, 2, 3)));
    assertTrue(Double.isNaN(ModelsReport.median(java.util.stream.DoubleStream.of(Double.NaN))));
  }

  @Test
  void theOptionsDefaultToOneClusterShapeAndRefuseNonsense() {
    ModelsBenchmark.Options quick = ModelsBenchmark.Options.parse("--quick");
    assertEquals(List.of(16), quick.bench().gpus());
    assertEquals(List.of(1), quick.bench().frontends());
    assertEquals(List.of(BenchRoute.ENCODE_NPY), quick.bench().routes());
    assertTrue(quick.idle() && quick.loaded(), quick.toString());
    assertEquals(0.25, quick.bLoad());
    assertEquals(1, quick.rounds());
    assertTrue(quick.bench().logs().endsWith("ops/run/models-bench"), quick.toString());
    ModelsBenchmark.Options loaded =
        ModelsBenchmark.Options.parse("--second-model", "loaded", "--b-load", "0.5", "--gpus", "4");
    assertTrue(loaded.loaded() && !loaded.idle(), loaded.toString());
    assertEquals(List.of(4), loaded.bench().gpus());
    assertEquals(3, loaded.rounds());
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> ModelsBenchmark.Options.parse("--second-model", "busy"))
            .getMessage()
            .contains("--second-model busy"));
    assertThrows(
        IllegalArgumentException.class, () -> ModelsBenchmark.Options.parse("--b-load", "2"));
    assertThrows(
        IllegalArgumentException.class, () -> ModelsBenchmark.Options.parse("--rounds", "0"));
    assertThrows(
        IllegalArgumentException.class, () -> ModelsBenchmark.Options.parse("--gpus", "1,2"));
  }
}

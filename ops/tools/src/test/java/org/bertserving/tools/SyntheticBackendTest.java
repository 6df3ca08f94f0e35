package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.ModelBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulated GPU: the engine loads it from the folder the benchmark writes, its vectors depend
 * on a row's token ids alone (not on the run it is in), and a run lasts what the timing model says,
 * spent waiting rather than computing.
 */
class SyntheticBackendTest {

  private static BertEncoder engine(Path dir, SyntheticBackend.Timing timing) throws Exception {
    Path model = SyntheticModel.write(dir.resolve("model"), 768);
    return BertEncoder.load(
        EngineSettings.builder().modelDir(model).maxSeqLen(40).build(),
        (files, declared, s) -> new SyntheticBackend.Gpu(declared, timing));
  }

  @Test
  void aRowsVectorIsAFunctionOfItsTokensAlone(@TempDir Path dir) throws Exception {
    List<String> texts = SyntheticModel.texts(40, 3);
    try (BertEncoder engine = engine(dir, SyntheticBackend.Timing.NONE)) {
      float[][] together = engine.encode(texts);
      List<InputFeatures> rows = engine.featurizer().featurize(texts, false).rows();
      for (int i = 0; i < texts.size(); i++) {
        float[] alone = engine.encode(List.of(texts.get(i)))[0];
        assertArrayEquals(alone, together[i], "row " + i + " alone and in a batch");
        assertEquals(768, alone.length);
        assertArrayEquals(
            SyntheticBackend.vector(SyntheticBackend.seed(rows.get(i).inputIds()), 768),
            together[i],
            "row " + i + " is the vector of its token ids");
        if (i > 0) {
          assertFalse(Arrays.equals(together[i - 1], together[i]), "distinct texts, distinct rows");
        }
      }
      // the same words tokenized the same give the same vector, whatever the text's case
      assertArrayEquals(
          engine.encode(List.of("The river, Dog.")), engine.encode(List.of("the river , dog .")));
    }
  }

  @Test
  void aRunLastsTheModelsTimeWaitingNotComputing(@TempDir Path dir) throws Exception {
    assertEquals(10_009, SyntheticBackend.Timing.DEFAULT.rowsPerSecond(256, 40), 1);
    // as a worker JVM started with the options is: 20 ms a run + 10 µs a token
    SyntheticBackend.Timing slow = new SyntheticBackend.Timing(20_000_000, 10_000);
    assertEquals(20_000_000 + 32 * 40 * 10_000, slow.nanos(32, 40));
    System.setProperty(SyntheticBackend.RUN_OVERHEAD, "20000");
    System.setProperty(SyntheticBackend.TOKEN_NANOS, "10000");
    try (BertEncoder engine = engine(dir, SyntheticBackend.Timing.NONE);
        ModelBackend gpu = new SyntheticBackend().open(null, engine.config(), engine.settings())) {
      List<InputFeatures> rows =
          engine.featurizer().featurize(SyntheticModel.texts(32, 5), false).rows();
      long model = slow.nanos(32, rows.stream().mapToInt(InputFeatures::length).max().orElse(0));
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      // each run lasts the model's time; the least CPU of them shows the wait parks (a spinning
      // wait would use its whole run in every one; a run's own work, still interpreted or beside
      // the other tests' JVMs on two cores, may take a share of any single one)
      long least = Long.MAX_VALUE;
      List<String> runs = new ArrayList<>();
      for (int run = 0; run < 5; run++) {
        long cpu = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        assertEquals(32, gpu.run(rows).length);
        long wall = System.nanoTime() - start;
        long used = threads.getCurrentThreadCpuTime() - cpu;
        assertTrue(wall >= model, "run " + run + ": " + wall + " ns, the model says " + model);
        least = Math.min(least, used);
        runs.add(used + " ns of CPU in " + wall);
      }
      assertTrue(least < model / 2, "the runs parked: " + runs);
      assertEquals(1, gpu.shapes(), "one shape: 32 rows at their longest");
    } finally {
      System.clearProperty(SyntheticBackend.RUN_OVERHEAD);
      System.clearProperty(SyntheticBackend.TOKEN_NANOS);
    }
  }
}

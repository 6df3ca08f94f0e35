package org.bertserving.engine.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.ModelBackend;
import org.bertserving.engine.ModelFiles;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/**
 * Two real TensorFlow sessions of the tiny model behind one {@link LayoutPair}: every run answers
 * what one session answers, whichever session it went to; each run goes to the session its size's
 * probe chose, and runs beyond the largest probe to the session primed on a large run.
 */
class LayoutPairTest {

  static EngineSettings settings() {
    return EngineSettings.builder().modelDir(TestNodes.tinyModel()).maxSeqLen(32).build();
  }

  static ModelBackend session(EngineSettings s) throws Exception {
    ModelFiles files = ModelFiles.locate(s);
    return TfBertBackend.open(files, BertConfig.read(files.config()), s);
  }

  /** {@code batch} distinct rows of {@code length} tokens of the tiny vocabulary. */
  static List<InputFeatures> rows(int batch, int length) {
    List<InputFeatures> rows = new ArrayList<>();
    for (int r = 0; r < batch; r++) {
      int[] ids = new int[length];
      int[] mask = new int[length];
      for (int t = 0; t < length; t++) {
        ids[t] = t == 0 ? 2 : t == length - 1 ? 3 : 5 + (r * 7 + t) % 30;
        mask[t] = 1;
      }
      rows.add(new InputFeatures(ids, new int[length], mask, List.of()));
    }
    return rows;
  }

  @Test
  void everyRunAnswersAsOneSessionAndGoesToTheSessionItsSizeChose() throws Exception {
    EngineSettings s = settings();
    try (ModelBackend one = session(s);
        ModelBackend small = session(s);
        ModelBackend large = session(s);
        LayoutPair pair = new LayoutPair(small, large)) {
      pair.prime();
      int[][] shapes = {{1, 3}, {1, 9}, {2, 16}, {8, 16}, {16, 32}, {40, 16}};
      for (int[] shape : shapes) {
        List<InputFeatures> rows = rows(shape[0], shape[1]);
        ModelBackend chosen = pair.sessionFor(shape[0], shape[1]);
        ModelBackend other = chosen == small ? large : small;
        int chosenShapes = chosen.shapes();
        int otherShapes = other.shapes();
        float[][] expected = one.run(rows);
        float[][] got = pair.run(rows);
        for (int r = 0; r < rows.size(); r++) {
          assertArrayEquals(
              expected[r], got[r], 1e-5f, "row " + r + " of " + shape[0] + " x " + shape[1]);
        }
        // a shape neither session ran before is counted by the one that ran it, only
        boolean newShape = chosen.shapes() > chosenShapes || other.shapes() > otherShapes;
        if (newShape) {
          assertEquals(chosenShapes + 1, chosen.shapes(), shape[0] + " x " + shape[1]);
          assertEquals(otherShapes, other.shapes(), shape[0] + " x " + shape[1]);
        }
      }
      // 40 x 16 = 640 rows: past every probe, the large-primed session's
      assertTrue(pair.sessionFor(40, 16) == large);
      assertTrue(pair.sessionFor(1, 4096) == large);
    }
  }

  @Test
  void theSwitchesAreReadAsTensorFlowReadsThem() {
    assertTrue(TfBertBackend.isOn("1", false));
    assertTrue(TfBertBackend.isOn("true", false));
    assertTrue(TfBertBackend.isOn("TRUE", false));
    assertFalse(TfBertBackend.isOn("0", true));
    assertFalse(TfBertBackend.isOn("false", true));
    assertTrue(TfBertBackend.isOn(null, true));
    assertFalse(TfBertBackend.isOn("", false));
    // the suite runs as ops/bert-serving-start does (the pom sets the switch): two sessions on the
    // CPU
    assertTrue(LayoutPair.applies(settings()), "TF_ONEDNN_ASSUME_FROZEN_WEIGHTS=1 in the tests");
    // a GPU, or XLA, never gets two sessions
    assertFalse(LayoutPair.applies(settings().toBuilder().deviceId(0).build()));
    assertFalse(LayoutPair.applies(settings().toBuilder().xla(true).build()));
  }
}

package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code -fp16} on the real model (BERT-Base, the fixtures' texts), with CPU kernels:
 * half-precision weights and matmuls, norms, softmax and pooling in float32, within cosine 0.999 of
 * float32. The tiny model cannot show this: its 32-wide rows keep their variance in half precision.
 */
class Fp16AccuracyTest {

  @Test
  void fp16StaysWithinCosine0999OfFloat32OnTheDefaultModel() throws Exception {
    assertCloseToFloat32(
        EngineSettings.builder().fp16(true).build(), Fixtures.publicTexts().subList(0, 12), "fp16");
  }

  /**
   * Every row of {@code reduced} (a reduced-precision run of the default model) within cosine 0.999
   * of a float32 run of the same texts, and not equal to it: a flag that does not take effect
   * fails.
   */
  static void assertCloseToFloat32(EngineSettings reduced, List<String> texts, String name)
      throws IOException {
    float[][] full;
    float[][] approx;
    try (BertEncoder f32 =
        BertEncoder.load(EngineSettings.builder().sizedSessions(reduced.sizedSessions()).build())) {
      full = f32.encode(texts);
    }
    try (BertEncoder lower = BertEncoder.load(reduced)) {
      approx = lower.encode(texts);
    }
    assertEquals(texts.size(), approx.length);
    double worst = 1;
    for (int i = 0; i < texts.size(); i++) {
      double cosine = Vectors.cosine(full[i], approx[i]);
      assertTrue(cosine >= 0.999, name + " row " + i + " (" + texts.get(i) + "): cosine " + cosine);
      worst = Math.min(worst, cosine);
    }
    assertFalse(
        Arrays.deepEquals(full, approx),
        name + " gave float32's vectors bit for bit: not in effect");
    System.out.printf("%s vs float32 on %d texts: worst cosine %.7f%n", name, texts.size(), worst);
  }
}

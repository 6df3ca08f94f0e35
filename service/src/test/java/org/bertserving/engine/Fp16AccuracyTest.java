package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
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
    List<String> texts = new ArrayList<>();
    JsonNode root = new ObjectMapper().readTree(Fixtures.file("embeddings_public.json").toFile());
    root.get("cases").forEach(c -> texts.add(c.get("text").asText()));
    List<String> some = texts.subList(0, 12);
    float[][] full;
    float[][] half;
    try (BertEncoder f32 = BertEncoder.load(EngineSettings.builder().build())) {
      full = f32.encode(some);
    }
    try (BertEncoder f16 = BertEncoder.load(EngineSettings.builder().fp16(true).build())) {
      half = f16.encode(some);
    }
    double worst = 1;
    for (int i = 0; i < some.size(); i++) {
      worst = Math.min(worst, cosine(full[i], half[i]));
    }
    System.out.printf("fp16 vs float32 on %d texts: worst cosine %.7f%n", some.size(), worst);
    assertTrue(worst >= 0.999, "worst cosine " + worst);
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double aa = 0;
    double bb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * (double) b[i];
      aa += a[i] * (double) a[i];
      bb += b[i] * (double) b[i];
    }
    return dot / Math.sqrt(aa * bb);
  }
}

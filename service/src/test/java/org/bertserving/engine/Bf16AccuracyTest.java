package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code -bf16} on the real model (BERT-Base, the fixtures' texts): bfloat16 weights and matmuls,
 * norms, softmax and pooling in float32, within cosine 0.999 of float32; refused on a GPU.
 */
class Bf16AccuracyTest {

  @Test
  void bf16StaysWithinCosine0999OfFloat32OnTheDefaultModel() throws Exception {
    assumeTrue(GpuPlatform.cpuBf16(), "this CPU has neither AVX512_BF16 nor AMX");
    List<String> texts = new ArrayList<>();
    JsonNode root = new ObjectMapper().readTree(Fixtures.file("embeddings_public.json").toFile());
    root.get("cases").forEach(c -> texts.add(c.get("text").asText()));
    float[][] full;
    float[][] bf16;
    try (BertEncoder f32 = BertEncoder.load(EngineSettings.builder().build())) {
      full = f32.encode(texts);
    }
    try (BertEncoder b16 = BertEncoder.load(EngineSettings.builder().bf16(true).build())) {
      bf16 = b16.encode(texts);
    }
    double worst = 1;
    for (int i = 0; i < texts.size(); i++) {
      worst = Math.min(worst, Fp16AccuracyTest.cosine(full[i], bf16[i]));
    }
    System.out.printf("bf16 vs float32 on %d texts: worst cosine %.7f%n", texts.size(), worst);
    assertTrue(worst >= 0.999, "worst cosine " + worst);
  }

  @Test
  void bf16IsRefusedOnAGpuWithTheFlagToUseInstead() {
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () -> BertEncoder.load(EngineSettings.builder().bf16(true).deviceId(0).build()));
    assertEquals(
        "-bf16 is for CPUs (bfloat16 matmuls of AVX512_BF16 or AMX); on GPU 0 use -fp16",
        e.getMessage());
  }

  @Test
  void bf16IsRefusedOnACpuThatWouldEmulateIt() {
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class, () -> BertEncoder.requireBf16("CPU (2 cores, AVX2 AVX512F)"));
    assertEquals(
        "-bf16 needs a CPU with AVX512_BF16 or AMX; this one is a CPU (2 cores, AVX2 AVX512F),"
            + " where bfloat16 would be emulated, slower than float32",
        e.getMessage());
    BertEncoder.requireBf16("CPU (2 cores, AVX2 AVX512F AVX512_BF16)");
    BertEncoder.requireBf16("CPU (56 cores, AVX2 AVX512F AMX_BF16)");
  }

  @Test
  void thisMachineCountsAsBf16ExactlyWhenTheKernelListsAFlagForIt() throws Exception {
    // the kernel's own flags, read apart from GpuPlatform's summary of them
    List<String> flags =
        java.util.Arrays.asList(
            java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo")).stream()
                .filter(l -> l.startsWith("flags"))
                .findFirst()
                .orElse("flags :")
                .split(":", 2)[1]
                .trim()
                .split("\\s+"));
    assertEquals(
        flags.contains("avx512_bf16") || flags.contains("amx_bf16"),
        GpuPlatform.cpuBf16(),
        "this machine: " + GpuPlatform.cpu());
  }
}

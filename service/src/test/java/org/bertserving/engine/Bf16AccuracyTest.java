package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code -bf16} on the real model (BERT-Base, the fixtures' texts): bfloat16 weights and matmuls,
 * norms, softmax and pooling in float32, every row within cosine 0.999 of a float32 run; refused on
 * a GPU and on a CPU that would emulate it.
 */
class Bf16AccuracyTest {

  @Test
  void bf16StaysWithinCosine0999OfFloat32OnEveryRowOfTheDefaultModel() throws Exception {
    // the kernel's own flags, read apart from GpuPlatform: where they name bfloat16 units the
    // engine must load with -bf16 (were the detection wrong, the load is refused and this fails)
    assumeTrue(
        kernelFlags().contains("avx512_bf16") || kernelFlags().contains("amx_bf16"),
        "this CPU has neither AVX512_BF16 nor AMX");
    // one session each (BERT-Base's sessions by run size hold the same graph, laid out for other
    // run sizes: SizedSessionsTest's), not two probed at each of the two loads
    Fp16AccuracyTest.assertCloseToFloat32(
        EngineSettings.builder().bf16(true).sizedSessions(false).build(),
        Fixtures.publicTexts(),
        "bf16");
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

  static List<String> kernelFlags() throws IOException {
    return Arrays.asList(
        Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
            .filter(l -> l.startsWith("flags"))
            .findFirst()
            .orElse("flags :")
            .split(":", 2)[1]
            .trim()
            .split("\\s+"));
  }
}

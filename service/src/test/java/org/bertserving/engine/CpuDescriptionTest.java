package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CPU as the benchmarks' headers and {@code /status/server} name it, read from {@code
 * /proc/cpuinfo}'s lines: the family and model numbers tell two CPUs of one name apart (the
 * README's "AMD EPYC" was a Zen 4 in one session and a Zen 5 in another), and -bf16 still finds its
 * units.
 */
class CpuDescriptionTest {
  @Test
  void familyAndModelNumbersTellCpusOfOneNameApart() {
    List<String> zen5 =
        List.of(
            "processor\t: 0",
            "vendor_id\t: AuthenticAMD",
            "cpu family\t: 26",
            "model\t\t: 2",
            "model name\t: AMD EPYC",
            "flags\t\t: fpu avx2 avx512f avx512_bf16 vaes");
    String described = GpuPlatform.cpu(zen5, 2);
    assertEquals("AMD EPYC (family 26 model 2, 2 cores, AVX2 AVX512F AVX512_BF16)", described);
    assertTrue(GpuPlatform.bf16(described));
    // no numbers, no name: what there is
    assertEquals("CPU (4 cores)", GpuPlatform.cpu(List.of("flags\t: fpu sse2"), 4));
    assertEquals("CPU (1 cores)", GpuPlatform.cpu(List.of(), 1));
  }
}

package org.bertserving.engine;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What this machine offers TensorFlow's GPU build, read without TensorFlow: which native build is
 * on the class path, the NVIDIA driver, the CUDA runtime and cuDNN libraries found, and the GPUs
 * {@code nvidia-smi} lists (name, compute capability, memory). So that a GPU that cannot be used is
 * reported in one line naming what is missing, and the status can say what each worker runs on.
 */
public final class GpuPlatform {
  /** TensorFlow 2.18's GPU build is linked against these. */
  public static final int CUDA_MAJOR = 12;

  public static final int CUDNN_MAJOR = 9;

  private static final String NATIVE = "org/tensorflow/internal/c_api/";

  /** One GPU as {@code nvidia-smi} describes it. */
  public record Gpu(
      int index, String name, String computeCapability, long memoryUsedMib, long memoryTotalMib) {}

  private GpuPlatform() {}

  /** Whether TensorFlow's GPU native build ({@code linux-x86_64-gpu}) is on the class path. */
  public static boolean gpuBuild() {
    return GpuPlatform.class.getClassLoader().getResource(NATIVE + "linux-x86_64-gpu/") != null;
  }

  /** Whether the CPU native build ({@code linux-x86_64}) is on the class path too. */
  public static boolean cpuBuild() {
    return GpuPlatform.class.getClassLoader().getResource(NATIVE + "linux-x86_64/") != null;
  }

  /** The NVIDIA kernel driver's version, or {@code null} when no driver is loaded. */
  public static String driverVersion() {
    try {
      String text = Files.readString(Path.of("/proc/driver/nvidia/version"));
      Matcher m = Pattern.compile("Kernel Module\\s+([0-9.]+)").matcher(text);
      return m.find() ? m.group(1) : text.lines().findFirst().orElse("unknown").strip();
    } catch (IOException e) {
      return null;
    }
  }

  /** The CUDA runtime libraries found ({@code libcudart.so.12}, ...). */
  public static List<String> cudaRuntimes() {
    return libraries("libcudart.so.");
  }

  /** The cuDNN libraries found ({@code libcudnn.so.9}, ...). */
  public static List<String> cudnns() {
    return libraries("libcudnn.so.");
  }

  /** Versions of {@code prefix}N libraries in the loader's path and the usual CUDA folders. */
  static List<String> libraries(String prefix) {
    Set<String> found = new LinkedHashSet<>();
    List<Path> dirs = new ArrayList<>();
    String ld = System.getenv("LD_LIBRARY_PATH");
    if (ld != null) {
      for (String dir : ld.split(":")) {
        if (!dir.isBlank()) {
          dirs.add(Path.of(dir));
        }
      }
    }
    for (String dir :
        List.of(
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib64",
            "/usr/local/cuda/lib64",
            "/usr/local/cuda/lib",
            "/usr/lib")) {
      dirs.add(Path.of(dir));
    }
    try (DirectoryStream<Path> cudas = Files.newDirectoryStream(Path.of("/usr/local"), "cuda-*")) {
      for (Path cuda : cudas) {
        dirs.add(cuda.resolve("lib64"));
        dirs.add(cuda.resolve("lib"));
      }
    } catch (IOException e) {
      // no /usr/local/cuda-* folders
    }
    for (Path dir : dirs) {
      try (DirectoryStream<Path> libs = Files.newDirectoryStream(dir, prefix + "*")) {
        for (Path lib : libs) {
          String name = lib.getFileName().toString();
          Matcher m = Pattern.compile(Pattern.quote(prefix) + "(\\d+)").matcher(name);
          if (m.lookingAt()) {
            found.add(prefix + m.group(1));
          }
        }
      } catch (IOException e) {
        // not a folder here
      }
    }
    return List.copyOf(found);
  }

  /** The GPUs {@code nvidia-smi} lists; empty when it is not installed or finds none. */
  public static List<Gpu> gpus() {
    try {
      Process p =
          new ProcessBuilder(
                  "nvidia-smi",
                  "--query-gpu=index,name,compute_cap,memory.used,memory.total",
                  "--format=csv,noheader,nounits")
              .redirectErrorStream(true)
              .start();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        return List.of();
      }
      return parse(new String(p.getInputStream().readAllBytes()));
    } catch (IOException e) {
      return List.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    }
  }

  /** {@code nvidia-smi}'s CSV, one GPU a line: index, name, compute_cap, used MiB, total MiB. */
  static List<Gpu> parse(String csv) {
    List<Gpu> gpus = new ArrayList<>();
    for (String line : csv.split("\n")) {
      String[] f = line.split(",\\s*");
      if (f.length < 5) {
        continue;
      }
      try {
        gpus.add(
            new Gpu(
                Integer.parseInt(f[0].trim()),
                f[1].trim(),
                f[2].trim(),
                Long.parseLong(f[3].trim()),
                Long.parseLong(f[4].trim())));
      } catch (NumberFormatException e) {
        // a header or a message, not a GPU
      }
    }
    return gpus;
  }

  /**
   * Why TensorFlow cannot use GPUs here, as a list of what is missing and what was found, for the
   * one line a node that asked for a GPU stops with.
   */
  public static String diagnosis() {
    List<String> parts = new ArrayList<>();
    if (!gpuBuild()) {
      parts.add(
          "this is TensorFlow's CPU build (tensorflow-core-native linux-x86_64; build with"
              + " -Pgpu, or run ops/bert-serving-start with BERT_SERVING_GPU=1)");
    }
    String driver = driverVersion();
    parts.add(
        driver == null
            ? "no NVIDIA driver is loaded (no /proc/driver/nvidia/version)"
            : "NVIDIA driver " + driver);
    parts.add(
        found("CUDA " + CUDA_MAJOR + " runtime", "libcudart.so." + CUDA_MAJOR, cudaRuntimes()));
    parts.add(found("cuDNN " + CUDNN_MAJOR, "libcudnn.so." + CUDNN_MAJOR, cudnns()));
    return String.join("; ", parts);
  }

  private static String found(String what, String needed, List<String> libs) {
    if (libs.contains(needed)) {
      return what + ": " + needed + " found";
    }
    return what
        + " missing ("
        + needed
        + " not found"
        + (libs.isEmpty() ? "" : "; found " + String.join(", ", libs))
        + ")";
  }

  /** Whether this CPU multiplies bfloat16 in hardware (AVX512_BF16 or AMX): what -bf16 needs. */
  public static boolean cpuBf16() {
    return bf16(cpu());
  }

  /** Whether the CPU that {@link #cpu()} so describes multiplies bfloat16 in hardware. */
  static boolean bf16(String cpu) {
    return cpu.contains("AVX512_BF16") || cpu.contains("AMX_BF16");
  }

  /**
   * This CPU for the status and benchmarks: its model, cores and the instruction sets that matter.
   */
  public static String cpu() {
    List<String> info = List.of();
    try {
      info = Files.readAllLines(Path.of("/proc/cpuinfo"));
    } catch (IOException e) {
      // not Linux
    }
    return cpu(info, Runtime.getRuntime().availableProcessors());
  }

  /**
   * The CPU as {@code /proc/cpuinfo}'s lines describe it: its model name, its family and model
   * numbers (which tell CPU generations of one name apart: an AMD EPYC of family 25 is a Zen 3 or
   * 4, of family 26 a Zen 5), its cores and the instruction sets the engine's kernels use.
   */
  static String cpu(List<String> info, int cores) {
    String flags = first(info, "flags").orElse("");
    String model = first(info, "model name").orElse("CPU");
    String numbers =
        first(info, "cpu family")
            .flatMap(family -> first(info, "model").map(m -> "family " + family + " model " + m))
            .map(n -> n + ", ")
            .orElse("");
    List<String> sets = new ArrayList<>();
    for (String f : List.of("avx2", "avx512f", "avx512_bf16", "amx_bf16")) {
      if ((" " + flags + " ").contains(" " + f + " ")) {
        sets.add(f.toUpperCase(Locale.ROOT));
      }
    }
    return model
        + " ("
        + numbers
        + cores
        + " cores"
        + (sets.isEmpty() ? "" : ", " + String.join(" ", sets))
        + ")";
  }

  /** The value of the first line of {@code info} whose key is {@code key}, if not empty. */
  private static java.util.Optional<String> first(List<String> info, String key) {
    return info.stream()
        .filter(l -> l.indexOf(':') > 0 && l.substring(0, l.indexOf(':')).trim().equals(key))
        .map(l -> l.substring(l.indexOf(':') + 1).trim())
        .filter(v -> !v.isEmpty())
        .findFirst();
  }
}

package org.bertserving.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.GpuPlatform;
import org.bertserving.engine.tf.DeviceProbe;
import org.bertserving.engine.tf.TfBertBackend;

/**
 * {@code ops/bert-serving-gpu-check}: what an operator runs on a GPU box and sends back. Prints the
 * platform (TensorFlow's native build, driver, CUDA runtime, cuDNN, the GPUs), proves every visible
 * GPU, compares {@code -fp16} with float32 on the default model, and measures rows/s at batch 1, 32
 * and 256 of 40-token texts with and without {@code -fp16} and {@code -xla}. {@code --cpu} runs the
 * same on the CPU (a dry run of the tool itself).
 */
public final class GpuCheck {
  private GpuCheck() {}

  public static void main(String[] args) throws Exception {
    boolean cpu = List.of(args).contains("--cpu");
    double seconds = 3;
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals("--seconds")) {
        seconds = Double.parseDouble(args[i + 1]);
      }
    }
    System.out.println("# bert-serving GPU check\n");
    System.out.println("| | |\n|---|---|");
    System.out.println("| TensorFlow | " + TfBertBackend.tensorflowVersion() + " |");
    System.out.println(
        "| native build | "
            + (GpuPlatform.gpuBuild() ? "GPU (linux-x86_64-gpu)" : "CPU (linux-x86_64)")
            + (GpuPlatform.gpuBuild() && GpuPlatform.cpuBuild() ? ", CPU too (rebuild!)" : "")
            + " |");
    System.out.println("| NVIDIA driver | " + orNone(GpuPlatform.driverVersion()) + " |");
    System.out.println(
        "| CUDA runtime (needs "
            + GpuPlatform.CUDA_MAJOR
            + ") | "
            + orNone(String.join(" ", GpuPlatform.cudaRuntimes()))
            + " |");
    System.out.println(
        "| cuDNN (needs "
            + GpuPlatform.CUDNN_MAJOR
            + ") | "
            + orNone(String.join(" ", GpuPlatform.cudnns()))
            + " |");
    for (GpuPlatform.Gpu gpu : GpuPlatform.gpus()) {
      System.out.printf(
          Locale.ROOT,
          "| GPU %d | %s, compute capability %s, %d of %d MiB in use |%n",
          gpu.index(),
          gpu.name(),
          gpu.computeCapability(),
          gpu.memoryUsedMib(),
          gpu.memoryTotalMib());
    }
    // the probe's session is the process's first on each GPU: with the engines' memory fraction
    double fraction = EngineSettings.builder().build().gpuMemoryFraction();
    int visible = DeviceProbe.visibleGpus(fraction);
    System.out.println("| GPUs TensorFlow can use | " + visible + " |\n");
    if (visible == 0 && !cpu) {
      System.out.println("No usable GPU: " + GpuPlatform.diagnosis());
      System.exit(1);
    }
    for (int gpu = 0; gpu < visible; gpu++) {
      DeviceProbe.prove(gpu, "", fraction);
    }
    int device = cpu ? -1 : 0;
    String where = cpu ? GpuPlatform.cpu() : "GPU 0";
    List<String> texts = texts(256, new Random(11));

    float[][] full;
    float[][] half;
    try (BertEncoder f32 = BertEncoder.load(settings(device, false, false))) {
      full = f32.encode(texts.subList(0, 32));
    }
    try (BertEncoder f16 = BertEncoder.load(settings(device, true, false))) {
      half = f16.encode(texts.subList(0, 32));
    }
    double worst = 1;
    for (int i = 0; i < full.length; i++) {
      worst = Math.min(worst, Vectors.cosine(full[i], half[i]));
    }
    System.out.printf(
        Locale.ROOT,
        "-fp16 against float32 on %s, 32 texts of 40 tokens: worst cosine %.6f%n%n",
        where,
        worst);

    System.out.println(
        "rows/s on " + where + " (BERT-Base, texts of 40 tokens, " + seconds + " s a cell):\n");
    System.out.println(
        "| batch | float32 | -fp16 | -xla | -fp16 -xla |\n|---:|---:|---:|---:|---:|");
    int[] batches = cpu ? new int[] {1, 32} : new int[] {1, 32, 256};
    double[][] rates = new double[batches.length][4];
    boolean[][] modes = {{false, false}, {true, false}, {false, true}, {true, true}};
    for (int m = 0; m < modes.length; m++) {
      try (BertEncoder engine = BertEncoder.load(settings(device, modes[m][0], modes[m][1]))) {
        engine.warmUp();
        for (int b = 0; b < batches.length; b++) {
          rates[b][m] = rate(engine, texts.subList(0, batches[b]), seconds);
        }
      }
    }
    for (int b = 0; b < batches.length; b++) {
      System.out.printf(
          Locale.ROOT,
          "| %d | %.1f | %.1f | %.1f | %.1f |%n",
          batches[b],
          rates[b][0],
          rates[b][1],
          rates[b][2],
          rates[b][3]);
    }
  }

  private static EngineSettings settings(int device, boolean fp16, boolean xla) {
    return EngineSettings.builder()
        .maxSeqLen(40)
        .deviceId(device)
        .visibleDevices(device < 0 ? "" : String.valueOf(device))
        .fp16(fp16)
        .xla(xla)
        .build();
  }

  private static double rate(BertEncoder engine, List<String> batch, double seconds) {
    engine.encode(batch);
    long end = System.nanoTime() + (long) (seconds * 1e9);
    long start = System.nanoTime();
    long rows = 0;
    do {
      engine.encode(batch);
      rows += batch.size();
    } while (System.nanoTime() < end);
    return rows / ((System.nanoTime() - start) / 1e9);
  }

  /** Texts of 38 word pieces, so 40 tokens with [CLS] and [SEP]. */
  private static List<String> texts(int n, Random random) {
    List<String> words = Chaos.corpus(400, random);
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      StringBuilder s = new StringBuilder();
      while (s.toString().split(" ").length < 38) {
        s.append(s.length() == 0 ? "" : " ").append(words.get(random.nextInt(words.size())));
      }
      texts.add(String.join(" ", List.of(s.toString().split(" ")).subList(0, 38)));
    }
    return texts;
  }

  private static String orNone(String s) {
    return s == null || s.isBlank() ? "none found" : s;
  }
}

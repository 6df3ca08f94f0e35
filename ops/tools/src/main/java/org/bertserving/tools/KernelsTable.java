package org.bertserving.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.tf.ProductTimes;
import org.bertserving.engine.tf.TfBertBackend;

/**
 * A model's feed-forward product ({@code hidden x intermediate}) on oneDNN's two kernels, in
 * float32 and, where the CPU has it, bfloat16, as a worker's start times them ({@link
 * ProductTimes}): µs a run and GFLOP/s. On a CPU where {@code -bf16} gains nothing, this shows
 * whether its products are why. A bfloat16 run also casts its input to bfloat16 and its result back
 * (a few µs; float32's has no casts), as the engine's graph does at its ends.
 */
final class KernelsTable {
  /** One column: a product of {@code rows} rows on a session of {@code threads} threads. */
  record Cell(int rows, int threads) {}

  private KernelsTable() {}

  /** 16, 128 and 512 rows on one thread, 512 on every core. */
  static List<Cell> cells() {
    int all = Runtime.getRuntime().availableProcessors();
    return List.of(new Cell(16, 1), new Cell(128, 1), new Cell(512, 1), new Cell(512, all));
  }

  /** The table of {@code config}'s feed-forward product, a Markdown line each. */
  static List<String> lines(BertConfig config, boolean bf16) {
    return lines(config.hiddenSize(), config.intermediateSize(), bf16, cells());
  }

  static List<String> lines(int in, int out, boolean bf16, List<Cell> cells) {
    List<String> lines = new ArrayList<>();
    StringBuilder header =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "| a product of %d x %d plus a bias, µs a run (GFLOP/s)%s |",
                in,
                out,
                // without them TensorFlow runs both on Eigen
                TfBertBackend.oneDnnOps() ? "" : ", TF_ENABLE_ONEDNN_OPTS=0"));
    StringBuilder rule = new StringBuilder("|---|");
    for (Cell cell : cells) {
      header.append(
          String.format(
              Locale.ROOT,
              " %d rows, %d thread%s |",
              cell.rows(),
              cell.threads(),
              cell.threads() == 1 ? "" : "s"));
      rule.append("---:|");
    }
    lines.add(header.toString());
    lines.add(rule.toString());
    for (boolean b : bf16 ? List.of(false, true) : List.of(false)) {
      String type = b ? "bfloat16" : "float32";
      StringBuilder fused = new StringBuilder("| " + type + ", oneDNN's inner product (fused) |");
      StringBuilder plain = new StringBuilder("| " + type + ", matrix multiply (plain) |");
      for (Cell cell : cells) {
        double flop = 2.0 * cell.rows() * in * out;
        try {
          ProductTimes.Kernels timed = ProductTimes.time(b, cell.rows(), in, out, cell.threads());
          fused.append(cell(timed.fusedMicros(), flop));
          plain.append(cell(timed.plainMicros(), flop));
        } catch (RuntimeException e) {
          // a kernel this TensorFlow cannot run here leaves its cell empty, not the benchmark
          System.err.printf(Locale.ROOT, "%s, %s: %s%n", type, cell, e);
          fused.append(" - |");
          plain.append(" - |");
        }
      }
      lines.add(fused.toString());
      lines.add(plain.toString());
    }
    return lines;
  }

  /** {@code micros} a run and the GFLOP/s of {@code flop} in that time. */
  static String cell(double micros, double flop) {
    return String.format(Locale.ROOT, " %.0f (%.0f) |", micros, flop / micros / 1e3);
  }
}

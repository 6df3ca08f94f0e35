package org.bertserving.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's CPU time from {@code /proc/PID/stat}: user + system, in ns (Linux only). */
final class ProcCpu {
  private static final long TICK_NANOS = 1_000_000_000L / clockTicks();

  private ProcCpu() {}

  /** utime + stime of {@code pid} so far; 0 once it is gone. */
  static long nanos(long pid) {
    return statNanos(Path.of("/proc", String.valueOf(pid), "stat"));
  }

  /**
   * utime + stime of {@code pid}'s JIT compiler threads (C1, C2) so far: how much of a JVM's CPU is
   * still the compiler's. A compiler thread that has ended (the JVM starts and stops them as the
   * queue grows and shrinks) no longer counts, so this is a lower bound.
   */
  static long compilerNanos(long pid) {
    long sum = 0;
    try (java.util.stream.Stream<Path> tasks =
        Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        String name;
        try {
          name = Files.readString(task.resolve("comm"));
        } catch (IOException e) {
          continue; // the thread ended meanwhile
        }
        if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
          sum += statNanos(task.resolve("stat"));
        }
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      return sum;
    }
    return sum;
  }

  private static long statNanos(Path file) {
    String stat;
    try {
      stat = Files.readString(file);
    } catch (IOException e) {
      return 0;
    }
    // the command name, in parentheses, may hold spaces: count the fields after its ')'
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK_NANOS; // fields 14 and 15
  }

  /** CPU time every process of the machine has used so far (/proc/stat), in ns. */
  static long machineNanos() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long busy = 0;
      for (int i = 1; i < f.length && i <= 8; i++) {
        if (i != 4 && i != 5) { // idle and iowait are not CPU used
          busy += Long.parseLong(f[i]);
        }
      }
      return busy * TICK_NANOS;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** This JVM's own. */
  static long self() {
    return nanos(ProcessHandle.current().pid());
  }

  /** {@code getconf CLK_TCK}, 100 on every Linux this runs on when getconf is not there. */
  private static long clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor();
      return Long.parseLong(out);
    } catch (IOException | NumberFormatException e) {
      return 100;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 100;
    }
  }

  /** The CPU's model name, from /proc/cpuinfo. */
  static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      // below
    }
    return System.getProperty("os.arch");
  }
}

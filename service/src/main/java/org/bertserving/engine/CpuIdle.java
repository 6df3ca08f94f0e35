package org.bertserving.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How this machine's idle CPUs wait, as Linux shows it under {@code /sys}. It matters to a run
 * split across threads: a thread that has handed off its work parks, and the next hand-off waits
 * for its CPU to wake. In a KVM guest whose idle driver is {@code haltpoll} with {@code
 * guest_halt_poll_ns} 0, an idle vCPU halts at once and each wake-up goes through the host; with
 * polling (the driver's default is 200 µs) it wakes in the guest. On the AMD EPYC of the README
 * (polling 0 by the host's boot line), switching polling on and off every ten runs in one process
 * made one MiniLM text on the two-part session 8 % faster at 8 tokens, 4 % at 13, 3 % at 20, and
 * the session of one thread, which hands off nothing, no faster.
 */
public final class CpuIdle {
  /** The file that sets a KVM guest's halt polling, relative to {@code /sys}. */
  public static final String POLL_KNOB = "module/haltpoll/parameters/guest_halt_poll_ns";

  private static final String DRIVER = "devices/system/cpu/cpuidle/current_driver";

  private CpuIdle() {}

  /** This machine's idle driver and its halt polling, for a benchmark's header. */
  public static String describe() {
    return describe(Path.of("/sys"));
  }

  static String describe(Path sys) {
    String driver = read(sys.resolve(DRIVER));
    if (driver == null) {
      return "cpuidle driver unknown";
    }
    String poll = "haltpoll".equals(driver) ? read(sys.resolve(POLL_KNOB)) : null;
    return "cpuidle " + driver + (poll == null ? "" : ", guest_halt_poll_ns=" + poll);
  }

  /** Whether this machine is a KVM guest that halts an idle vCPU without polling first. */
  public static boolean haltsAtOnce() {
    return haltsAtOnce(Path.of("/sys"));
  }

  static boolean haltsAtOnce(Path sys) {
    return "haltpoll".equals(read(sys.resolve(DRIVER))) && "0".equals(read(sys.resolve(POLL_KNOB)));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file).trim();
    } catch (IOException | SecurityException e) {
      return null; // not Linux, no cpuidle, or not readable: nothing to say
    }
  }
}

package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The idle driver as {@code /sys} shows it, read from a tree laid out as Linux lays it out. */
class CpuIdleTest {
  @TempDir Path sys;

  private void write(String relative, String content) throws IOException {
    Path file = sys.resolve(relative);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
  }

  @Test
  void aGuestThatHaltsWithoutPollingIsNamed() throws IOException {
    write("devices/system/cpu/cpuidle/current_driver", "haltpoll\n");
    write(CpuIdle.POLL_KNOB, "0\n");
    assertTrue(CpuIdle.haltsAtOnce(sys));
    assertEquals("cpuidle haltpoll, guest_halt_poll_ns=0", CpuIdle.describe(sys));
  }

  @Test
  void aGuestThatPollsFirstIsNot() throws IOException {
    write("devices/system/cpu/cpuidle/current_driver", "haltpoll\n");
    write(CpuIdle.POLL_KNOB, "200000\n");
    assertFalse(CpuIdle.haltsAtOnce(sys));
    assertEquals("cpuidle haltpoll, guest_halt_poll_ns=200000", CpuIdle.describe(sys));
  }

  @Test
  void otherDriversAndMissingFilesSayNothingOfPolling() throws IOException {
    assertFalse(CpuIdle.haltsAtOnce(sys));
    assertEquals("cpuidle driver unknown", CpuIdle.describe(sys));
    write("devices/system/cpu/cpuidle/current_driver", "intel_idle\n");
    write(CpuIdle.POLL_KNOB, "0\n"); // a stale module parameter: not the driver in use
    assertFalse(CpuIdle.haltsAtOnce(sys));
    assertEquals("cpuidle intel_idle", CpuIdle.describe(sys));
  }

  @Test
  void thisMachineIsDescribedWithoutFailing() {
    String here = CpuIdle.describe();
    assertTrue(here.startsWith("cpuidle "), here);
  }
}

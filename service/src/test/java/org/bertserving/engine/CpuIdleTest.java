package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The idle driver as {@code /sys} shows it, read from a tree laid out as Linux lays it out. */
class CpuIdleTest {
  @TempDir Path sys;

  private void write(String relative, String content) throws IOException {
    Path file = sys.resolve(relative);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content + "\n");
  }

  /** The knob is read only where haltpoll is the driver in use: elsewhere it is a stale value. */
  @ParameterizedTest
  @CsvSource({
    "haltpoll, 0, true, 'cpuidle haltpoll, guest_halt_poll_ns=0'",
    "haltpoll, 200000, false, 'cpuidle haltpoll, guest_halt_poll_ns=200000'",
    "intel_idle, 0, false, cpuidle intel_idle",
  })
  void theDriverAndItsPollingAreRead(
      String driver, String poll, boolean haltsAtOnce, String description) throws IOException {
    write("devices/system/cpu/cpuidle/current_driver", driver);
    write(CpuIdle.POLL_KNOB, poll);
    assertEquals(haltsAtOnce, CpuIdle.haltsAtOnce(sys));
    assertEquals(description, CpuIdle.describe(sys));
  }

  @Test
  void noCpuidleSaysNothing() {
    assertFalse(CpuIdle.haltsAtOnce(sys));
    assertEquals("cpuidle driver unknown", CpuIdle.describe(sys));
  }
}

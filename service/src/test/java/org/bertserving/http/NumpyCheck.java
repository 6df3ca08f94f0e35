package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** NumPy itself reads an answer: {@code np.load} of the bytes, as a Python client does. */
final class NumpyCheck {
  private NumpyCheck() {}

  /**
   * Loads {@code npy} with NumPy and checks its dtype and shape; skipped, saying so, without it.
   */
  static void load(byte[] npy, String shape) throws Exception {
    Process probe = new ProcessBuilder("python3", "-c", "import numpy").start();
    boolean numpy = probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() == 0;
    Assumptions.assumeTrue(
        numpy, "python3 with NumPy is not installed here (apt-get install python3-numpy)");
    Path file = Files.createTempFile("answer", ".npy");
    try {
      Files.write(file, npy);
      Process p =
          new ProcessBuilder(
                  "python3",
                  "-c",
                  "import io, sys, numpy as np; a = np.load(io.BytesIO(open(sys.argv[1], 'rb')"
                      + ".read())); print(a.dtype, a.shape)",
                  file.toString())
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor(30, TimeUnit.SECONDS);
      assertEquals("float32 " + shape, out, "NumPy's np.load of the answer");
    } finally {
      Files.deleteIfExists(file);
    }
  }
}

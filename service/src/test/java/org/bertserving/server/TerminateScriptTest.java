package org.bertserving.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ops/bert-serving-terminate} signals a node (its start script, or the JVM it became) and
 * never another program: a PID file left by a node that died may name a process that took its PID
 * since. Run on a copy of the script in a checkout-shaped folder, against {@code sleep} processes.
 */
class TerminateScriptTest {
  @TempDir Path root;

  private Path script() throws Exception {
    Files.createDirectories(root.resolve("ops/run"));
    Path script = root.resolve("ops/bert-serving-terminate");
    Files.copy(ArteryTlsTest.root().resolve("ops/bert-serving-terminate"), script);
    return script;
  }

  /** {@code sleep}, named {@code name} in its command line (as a node's is). */
  private static Process sleeper(String name) throws Exception {
    return new ProcessBuilder("bash", "-c", "exec -a " + name + " sleep 120").start();
  }

  private TestNodes.Child terminate(Path script, String target) throws Exception {
    return TestNodes.run(new ProcessBuilder("bash", script.toString(), target), 30);
  }

  /** Names {@code process} in ops/run/NAME.pid, runs the script on NAME; it exits 0 either way. */
  private TestNodes.Child terminateByFile(Path script, String name, Process process)
      throws Exception {
    Files.writeString(root.resolve("ops/run/" + name + ".pid"), process.pid() + "\n");
    TestNodes.Child child = terminate(script, name);
    assertEquals(0, child.exit(), child.output());
    return child;
  }

  @Test
  void aStalePidFileNamingAnotherProgramSignalsNothing() throws Exception {
    Path script = script();
    Process other = sleeper("sleep");
    try {
      TestNodes.Child child = terminateByFile(script, "worker1", other);
      assertTrue(child.output().contains("stale"), child.output());
      assertFalse(other.waitFor(1, TimeUnit.SECONDS), "the other program was left alone");
      assertFalse(Files.exists(root.resolve("ops/run/worker1.pid")), "the stale file is gone");
      TestNodes.Child direct = terminate(script, Long.toString(other.pid()));
      assertEquals(1, direct.exit(), direct.output());
      assertTrue(direct.output().contains("not a bert-serving node"), direct.output());
      assertTrue(other.isAlive());
    } finally {
      other.destroyForcibly();
    }
  }

  @Test
  void aNodeNamedByItsPidFileIsStoppedAndItsFileRemoved() throws Exception {
    Path script = script();
    Process node = sleeper("bert-serving-start");
    try {
      TestNodes.Child child = terminateByFile(script, "frontend", node);
      assertTrue(child.output().contains("stopped " + node.pid()), child.output());
      assertTrue(node.waitFor(10, TimeUnit.SECONDS), "SIGTERM ended it");
      assertFalse(Files.exists(root.resolve("ops/run/frontend.pid")));
    } finally {
      node.destroyForcibly();
    }
  }
}

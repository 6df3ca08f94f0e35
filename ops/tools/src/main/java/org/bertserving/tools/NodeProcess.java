package org.bertserving.tools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bertserving.server.NodePorts;

/**
 * A node of the service in a JVM of its own ({@code org.bertserving.cli.Main}, the command line of
 * {@code ops/bert-serving-start}), for the faults only a process can have: kill -9, SIGSTOP,
 * SIGTERM and a restart. Its output goes to a file, never a pipe, so a chatty or hung child can
 * never block the parent; {@link #close()} always reaps it, with a timeout.
 */
public final class NodeProcess implements AutoCloseable {
  private static final Duration REAP = Duration.ofSeconds(30);

  private final String name;
  private final Process process;
  private final Path log;

  private NodeProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /**
   * Starts a node.
   *
   * @param classpath the service's class path (this JVM's by default, see {@link #ownClasspath()})
   * @param jvm JVM options, e.g. {@code -Xmx1g} or {@code -Dbert-serving.chaos.enabled=on}
   * @param args the flags of {@code bert-serving-start}
   */
  public static NodeProcess start(
      String name, String classpath, List<String> jvm, List<String> args, Path logDir) {
    return start(name, classpath, jvm, args, logDir, java.util.Map.of());
  }

  /** As {@link #start(String, String, List, List, Path)}, with more environment variables. */
  public static NodeProcess start(
      String name,
      String classpath,
      List<String> jvm,
      List<String> args,
      Path logDir,
      java.util.Map<String, String> env) {
    return start(name, classpath, jvm, args, logDir, env, List.of());
  }

  /** As above, the JVM started through {@code prefix} (e.g. {@code taskset -c 0}). */
  public static NodeProcess start(
      String name,
      String classpath,
      List<String> jvm,
      List<String> args,
      Path logDir,
      java.util.Map<String, String> env,
      List<String> prefix) {
    try {
      Files.createDirectories(logDir);
      Path log = logDir.resolve(name + "-" + System.currentTimeMillis() + ".log");
      List<String> command = new ArrayList<>(prefix);
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(jvm);
      command.add("-cp");
      command.add(classpath);
      command.add("org.bertserving.cli.Main");
      command.addAll(args);
      ProcessBuilder builder =
          new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      // as ops/lib/engine-env.sh: TensorFlow's tensors stay in glibc's heap between runs; several
      // sessions on a CPU, each with threads of its own (engine/tf/SizedSessions)
      builder.environment().putIfAbsent("MALLOC_MMAP_THRESHOLD_", "268435456");
      builder.environment().putIfAbsent("MALLOC_TRIM_THRESHOLD_", "268435456");
      builder.environment().putIfAbsent("TF_ONEDNN_ASSUME_FROZEN_WEIGHTS", "1");
      builder.environment().putIfAbsent("TF_OVERRIDE_GLOBAL_THREADPOOL", "1");
      // the node's "ports open" line, which ports() reads, is logged at INFO
      builder.environment().remove("BERT_SERVING_LOG_LEVEL");
      builder.environment().putAll(env);
      Process process = builder.start();
      return new NodeProcess(name, process, log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node " + name, e);
    }
  }

  /**
   * The flags of a node that listens on loopback only, on ports the kernel chooses (read back with
   * {@link #ports}).
   */
  public static List<String> loopbackFlags() {
    return List.of(
        "-http_interface", "127.0.0.1",
        "-http_port", "0",
        "-cluster_host", "127.0.0.1",
        "-cluster_port", "0",
        "-management_interface", "127.0.0.1",
        "-management_port", "0");
  }

  /** The class path of this JVM (the test's, or the tool's). */
  public static String ownClasspath() {
    return System.getProperty("java.class.path");
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** kill -9, and waits until it is gone. */
  public void kill() {
    destroy();
    awaitExit(REAP);
  }

  /**
   * kill -9 of the node and of what its prefix started: a prefix that forks instead of exec'ing
   * (Debian's {@code faketime}) leaves the node's JVM as its child, which killing it alone orphans.
   */
  private void destroy() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }

  /** SIGSTOP: the process is frozen, its sockets stay open (a long GC pause, a hung host). */
  public void pause() {
    signal("STOP");
  }

  /** SIGCONT. */
  public void resume() {
    signal("CONT");
  }

  /** SIGTERM, then waits for the exit (SIGKILL after {@code timeout}); returns the exit code. */
  public int stop(Duration timeout) {
    signal("TERM");
    if (!waitFor(timeout)) {
      destroy();
      awaitExit(REAP);
    }
    return process.exitValue();
  }

  /** Waits for the process to end by itself; returns its exit code. */
  public int awaitExit(Duration timeout) {
    if (!waitFor(timeout)) {
      throw new IllegalStateException(name + " did not exit within " + timeout.toSeconds() + " s");
    }
    return process.exitValue();
  }

  private boolean waitFor(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Signals the node and, best effort, what its prefix started (see {@link #destroy()}). */
  private void signal(String signal) {
    if (!kill(signal, process.pid())) {
      throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
    }
    process.descendants().forEach(child -> kill(signal, child.pid()));
  }

  private static boolean kill(String signal, long pid) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, String.valueOf(pid))
              .redirectErrorStream(true)
              .start();
      return kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The ports the node opened (those given as 0 are the ones the kernel chose), read from the line
   * it logs once every port is open; throws if it exits or has not opened them within {@code
   * timeout}, with its output.
   */
  public NodePorts ports(Duration timeout) {
    boolean ended =
        Waits.within(timeout, () -> !process.isAlive() || NodePorts.find(output()) != null);
    NodePorts ports = NodePorts.find(output());
    if (ports == null) {
      throw new IllegalStateException(
          name
              + (ended ? " exited" : " did not open its ports within " + timeout.toSeconds() + " s")
              + " without opening its ports: "
              + output());
    }
    return ports;
  }

  /** Where each node's output is, one line each, for a failure report. */
  public static String logs(NodeProcess... nodes) {
    StringBuilder s = new StringBuilder();
    for (NodeProcess node : nodes) {
      if (node != null) {
        s.append("---- ").append(node.name()).append(" (").append(node.log()).append(")\n");
      }
    }
    return s.toString();
  }

  /** What the node printed so far. */
  public String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }

  public Path log() {
    return log;
  }

  /** Kills the node if it still runs, resuming it first if paused, and reaps it. */
  @Override
  public void close() {
    if (process.isAlive()) {
      try {
        signal("CONT");
      } catch (RuntimeException ignored) {
        // it may have ended meanwhile
      }
      destroy();
      waitFor(REAP);
    }
  }
}

package org.bertserving.tools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces on one bridge, for real partitions between node JVMs on one machine: a bridge
 * in the host namespace (address {@code .1} of a private /24, so this JVM reaches every node), and
 * per name a namespace with loopback up and a veth pair into the bridge ({@code .2}, {@code .3}, …
 * inside). {@link #cut} takes the host end of a namespace's veth down, {@link #heal} brings it up:
 * a pulled cable, both directions, to every peer and to this JVM alike. Why the link and not a
 * tc/iptables drop rule: it needs nothing but iproute2 (this machine has no iptables), it touches
 * no shared netfilter state of the host, and link up undoes it exactly. Names carry this JVM's pid,
 * so two runs never collide; {@link #close()} removes everything made, also after a failure (and a
 * shutdown hook does when the JVM ends first). Needs root and {@code ip}: see {@link #available()}.
 */
public final class Netns implements AutoCloseable {
  private static final String PREFIX = "bsp" + ProcessHandle.current().pid();
  private static String unavailable;
  private static boolean probed;

  private final String bridge;
  private final String subnet;
  private final Map<String, Integer> index = new LinkedHashMap<>();
  private final Thread hook = new Thread(this::close, "netns-cleanup");
  private boolean closed;

  private Netns(String bridge, String subnet) {
    this.bridge = bridge;
    this.subnet = subnet;
  }

  /** Whether this machine can make namespaces, bridges and veth pairs (tried once, then cached). */
  public static boolean available() {
    return unavailableReason() == null;
  }

  /** Why {@link #available()} is false (not root, no {@code ip}, the kernel refused), or null. */
  public static synchronized String unavailableReason() {
    if (!probed) {
      probed = true;
      unavailable = probe();
    }
    return unavailable;
  }

  private static String probe() {
    if (!"0".equals(effectiveUid())) {
      return "network namespaces need root (this JVM runs as uid " + effectiveUid() + ")";
    }
    try {
      run("ip", "-V");
    } catch (RuntimeException e) {
      return "iproute2's ip is not installed (apt-get install iproute2): " + e.getMessage();
    }
    String ns = PREFIX + "-probe";
    String br = PREFIX + "p";
    try {
      quietly("ip", "netns", "del", ns);
      quietly("ip", "link", "del", br);
      run("ip", "netns", "add", ns);
      run("ip", "link", "add", br, "type", "bridge");
      run("ip", "link", "add", br + "v", "type", "veth", "peer", "name", "eth0", "netns", ns);
      return null;
    } catch (RuntimeException e) {
      return "cannot make a network namespace, bridge and veth pair: " + e.getMessage();
    } finally {
      quietly("ip", "link", "del", br + "v");
      quietly("ip", "link", "del", br);
      quietly("ip", "netns", "del", ns);
    }
  }

  private static String effectiveUid() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return line.split("\\s+")[2];
        }
      }
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    }
    return "unknown";
  }

  /**
   * Makes the bridge and one namespace per name, each reachable from this JVM and from the others.
   * Whatever was made is removed again when a step fails.
   */
  public static Netns create(List<String> names) {
    if (names.size() > 9) {
      throw new IllegalArgumentException("at most 9 namespaces: " + names);
    }
    Netns n = new Netns(PREFIX + "br", freeSubnet());
    for (int i = 0; i < names.size(); i++) {
      n.index.put(names.get(i), i);
    }
    n.removeAll(); // what a crashed run of this pid left
    Runtime.getRuntime().addShutdownHook(n.hook);
    try {
      run("ip", "link", "add", n.bridge, "type", "bridge");
      run("ip", "addr", "add", n.subnet + ".1/24", "dev", n.bridge);
      run("ip", "link", "set", n.bridge, "up");
      for (String name : names) {
        String ns = n.namespace(name);
        run("ip", "netns", "add", ns);
        run("ip", "link", "add", n.veth(name), "type", "veth", "peer", "name", "eth0", "netns", ns);
        run("ip", "link", "set", n.veth(name), "master", n.bridge, "up");
        run("ip", "-n", ns, "addr", "add", n.address(name) + "/24", "dev", "eth0");
        run("ip", "-n", ns, "link", "set", "eth0", "up");
        run("ip", "-n", ns, "link", "set", "lo", "up");
      }
      return n;
    } catch (RuntimeException e) {
      n.close();
      throw e;
    }
  }

  /** A /24 of 10.213.0.0/16 that no address or route of this machine uses yet. */
  private static String freeSubnet() {
    String used = run("ip", "-4", "addr") + run("ip", "-4", "route");
    int start = (int) (ProcessHandle.current().pid() % 200);
    for (int i = 0; i < 200; i++) {
      String candidate = "10.213." + (20 + (start + i) % 200);
      if (!used.contains(candidate + ".")) {
        return candidate;
      }
    }
    throw new IllegalStateException("no free /24 in 10.213.0.0/16: " + used);
  }

  /** The namespace's address, e.g. {@code 10.213.77.2}. */
  public String address(String name) {
    return subnet + "." + (2 + position(name));
  }

  /** The address of this JVM's end, the bridge. */
  public String hostAddress() {
    return subnet + ".1";
  }

  /** The command prefix that runs a process inside the namespace. */
  public List<String> prefix(String name) {
    return List.of("ip", "netns", "exec", namespace(name));
  }

  /** Cuts the namespace off: no packet in or out until {@link #heal}. */
  public void cut(String name) {
    run("ip", "link", "set", veth(name), "down");
  }

  /** Connects the namespace again. */
  public void heal(String name) {
    run("ip", "link", "set", veth(name), "up");
  }

  private int position(String name) {
    Integer i = index.get(name);
    if (i == null) {
      throw new IllegalArgumentException("no namespace " + name + " (there are " + index + ")");
    }
    return i;
  }

  private String namespace(String name) {
    return PREFIX + "-" + name;
  }

  private String veth(String name) {
    return PREFIX + "v" + position(name); // IFNAMSIZ: at most 15 characters
  }

  /** Removes the veth pairs, the namespaces and the bridge (what exists of them). */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    removeAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: this is the hook
    }
  }

  private void removeAll() {
    for (String name : index.keySet()) {
      quietly("ip", "link", "del", veth(name)); // its peer inside goes with it
      quietly("ip", "netns", "del", namespace(name));
    }
    quietly("ip", "link", "del", bridge);
  }

  /** Runs a command; returns its output, or throws with the command and its output. */
  private static String run(String... command) {
    Path out = null;
    try {
      // output to a file, never a pipe that could block a child that hangs
      out = Files.createTempFile("netns", ".out");
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
      p.getOutputStream().close();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + ": no exit within 20 s");
      }
      String text = Files.readString(out, StandardCharsets.UTF_8).trim();
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", command) + " exited " + p.exitValue() + ": " + text);
      }
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: " + String.join(" ", command), e);
    } finally {
      if (out != null) {
        out.toFile().delete();
      }
    }
  }

  /** Runs a command whose failure means only that there was nothing to remove. */
  private static void quietly(String... command) {
    try {
      run(command);
    } catch (RuntimeException e) {
      // nothing of that name exists
    }
  }

  /** What exists of this run's devices and namespaces (for a test's check that close() worked). */
  static List<String> leftovers() {
    List<String> left = new ArrayList<>();
    for (String line : (run("ip", "-br", "link") + "\n" + run("ip", "netns", "list")).split("\n")) {
      if (line.startsWith(PREFIX + "-")
          || line.startsWith(PREFIX + "v")
          || line.startsWith(PREFIX + "br")) {
        left.add(line);
      }
    }
    return left;
  }
}

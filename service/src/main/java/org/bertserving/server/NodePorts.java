package org.bertserving.server;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ports a node listens on, as bound (a port configured as 0 is the one the kernel chose); 0
 * where the node has no such port. A node keeps them across its incarnations.
 */
public record NodePorts(int cluster, int http, int management, int zmq, int zmqOut) {
  private static final Pattern LINE =
      Pattern.compile("cluster=(\\d+) http=(\\d+) management=(\\d+) zmq=(\\d+) zmq_out=(\\d+)");

  /** The form the node logs once its ports are open, and {@link #find} reads back. */
  @Override
  public String toString() {
    return "cluster="
        + cluster
        + " http="
        + http
        + " management="
        + management
        + " zmq="
        + zmq
        + " zmq_out="
        + zmqOut;
  }

  /** The ports in a node's log (the first line that names them), or null if none does yet. */
  public static NodePorts find(String log) {
    Matcher m = LINE.matcher(log);
    if (!m.find()) {
      return null;
    }
    return new NodePorts(
        Integer.parseInt(m.group(1)),
        Integer.parseInt(m.group(2)),
        Integer.parseInt(m.group(3)),
        Integer.parseInt(m.group(4)),
        Integer.parseInt(m.group(5)));
  }
}

package org.bertserving.tools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Free ports on 127.0.0.1 for the nodes these tools start, from 26384-32767: below Linux's
 * ephemeral range (32768-60999), so the kernel never hands one to an outgoing connection or to a
 * bind-to-0 between this check and the node binding it; never twice from one JVM. (The service's
 * tests take theirs from 20000-26383, so the two never meet in one test JVM.)
 */
public final class LoopbackPorts {
  private static final int FIRST = 26384;
  private static final int SPAN = 6384;
  // JVMs started one after the other begin apart
  private static final AtomicInteger NEXT =
      new AtomicInteger((int) (ProcessHandle.current().pid() * 389 % SPAN));

  private LoopbackPorts() {}

  /** A port no one listens on now. */
  public static int free() {
    for (int i = 0; i < SPAN; i++) {
      int port = FIRST + Math.floorMod(NEXT.getAndIncrement(), SPAN);
      try (ServerSocket socket = new ServerSocket()) {
        socket.setReuseAddress(false);
        socket.bind(new InetSocketAddress("127.0.0.1", port));
        return port;
      } catch (IOException taken) {
        // in use: the next
      }
    }
    throw new UncheckedIOException(
        new IOException("no free port in " + FIRST + "-" + (FIRST + SPAN - 1)));
  }
}

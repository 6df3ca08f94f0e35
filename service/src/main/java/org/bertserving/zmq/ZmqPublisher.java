package org.bertserving.zmq;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.ZMQ;
import org.zeromq.ZMsg;

/**
 * The door's reply side: one thread owns the XPUB socket, learns the clients' subscriptions and
 * sends replies in order; a reply for a client that has not subscribed yet (the PUB/SUB slow
 * joiner) waits for its subscription, as long as the door's request timeout: a client whose
 * connection is slow to come up on a loaded machine still gets its answer. The thread waits for
 * replies, at most {@link #EVENT_WAIT_MS} at a time to see new subscriptions; it never spins.
 */
final class ZmqPublisher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ZmqPublisher.class);

  /** A reply held longer than this for its client's subscription is logged. */
  private static final long SLOW_SUBSCRIPTION_MS = 1_000;

  private static final long EVENT_WAIT_MS = 25;

  private record Outgoing(byte[] client, byte[] header, byte[] raw, byte[] reqId, long since) {}

  private final LinkedBlockingQueue<Outgoing> outbox = new LinkedBlockingQueue<>();
  private final Thread thread;
  private final long subscriptionWaitMs;
  private volatile boolean running = true;

  /** Publishes on {@code pub}; a reply waits up to {@code subscriptionWait} for its client. */
  ZmqPublisher(ZMQ.Socket pub, java.time.Duration subscriptionWait) {
    this.subscriptionWaitMs = subscriptionWait.toMillis();
    thread = new Thread(() -> publish(pub), "zmq-door-out");
    thread.setDaemon(true);
    thread.start();
  }

  /** Queues a reply {@code [client, header, raw?, reqId]}; any thread may call it. */
  void send(byte[] client, byte[] header, byte[] raw, byte[] reqId) {
    outbox.add(new Outgoing(client, header, raw, reqId, System.currentTimeMillis()));
  }

  private void publish(ZMQ.Socket pub) {
    Set<String> subscribed = new HashSet<>();
    Map<String, ArrayDeque<Outgoing>> waiting = new HashMap<>();
    while (running || !outbox.isEmpty()) { // closing: what is queued goes out first
      try {
        publishOnce(pub, subscribed, waiting);
      } catch (InterruptedException e) {
        break;
      } catch (RuntimeException e) { // one reply that cannot go must not end every reply
        LOG.error("ZeroMQ reply could not be sent", e);
        if (!running) {
          break;
        }
        java.util.concurrent.locks.LockSupport.parkNanos(EVENT_WAIT_MS * 1_000_000);
      }
    }
    pub.close();
  }

  private void publishOnce(
      ZMQ.Socket pub, Set<String> subscribed, Map<String, ArrayDeque<Outgoing>> waiting)
      throws InterruptedException {
    byte[] event;
    while ((event = pub.recv(ZMQ.DONTWAIT)) != null) {
      if (event.length > 0) {
        String topic = new String(event, 1, event.length - 1, StandardCharsets.UTF_8);
        if (event[0] == 1) {
          subscribed.add(topic);
          ArrayDeque<Outgoing> held = waiting.remove(topic);
          if (held != null) {
            long waited = System.currentTimeMillis() - held.peekFirst().since();
            if (waited > SLOW_SUBSCRIPTION_MS) {
              LOG.warn("client {} subscribed {} ms after its first reply was ready", topic, waited);
            }
            held.forEach(o -> write(pub, o));
          }
        } else {
          subscribed.remove(topic);
        }
      }
    }
    Outgoing o = outbox.poll(EVENT_WAIT_MS, TimeUnit.MILLISECONDS);
    for (; o != null; o = outbox.poll()) {
      String topic = new String(o.client(), StandardCharsets.UTF_8);
      if (subscribed.contains(topic)) {
        write(pub, o);
      } else {
        waiting.computeIfAbsent(topic, t -> new ArrayDeque<>()).add(o);
      }
    }
    dropStale(waiting);
  }

  /** Replies for clients that never subscribed go after a while; so do emptied queues. */
  private void dropStale(Map<String, ArrayDeque<Outgoing>> waiting) {
    long now = System.currentTimeMillis();
    waiting
        .values()
        .forEach(
            q ->
                q.removeIf(
                    w -> {
                      boolean stale = now - w.since() > subscriptionWaitMs;
                      if (stale) {
                        LOG.warn(
                            "dropping a reply for client {}: it did not subscribe within {} ms",
                            new String(w.client(), StandardCharsets.UTF_8),
                            subscriptionWaitMs);
                      }
                      return stale;
                    }));
    waiting.values().removeIf(ArrayDeque::isEmpty);
  }

  /** Sends one reply; one that cannot go is logged, and the others still go. */
  private static void write(ZMQ.Socket pub, Outgoing o) {
    try {
      send(pub, o);
    } catch (RuntimeException e) {
      LOG.error(
          "a reply for client {} could not be sent",
          new String(o.client(), StandardCharsets.UTF_8),
          e);
    }
  }

  private static void send(ZMQ.Socket pub, Outgoing o) {
    ZMsg out = new ZMsg();
    out.addLast(o.client());
    out.addLast(o.header());
    if (o.raw() != null) {
      out.addLast(o.raw());
    }
    out.addLast(o.reqId());
    out.send(pub);
  }

  @Override
  public void close() {
    running = false;
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

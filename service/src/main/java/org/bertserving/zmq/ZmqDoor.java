package org.bertserving.zmq;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.client.protocol.StatusReply;
import org.bertserving.cluster.Frontend;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMsg;

/**
 * bert-as-service 1.10's ZeroMQ protocol in front of the same frontend as HTTP: requests
 * {@code [client, payload, req_id, msg_len]} on a PULL socket ({@code -port}), replies
 * {@code [client, header, raw, req_id]} on a publisher ({@code -port_out}) with the client id as
 * topic. The publisher is an XPUB, so it sees subscriptions: a reply waits for its client's
 * subscription instead of being lost to the PUB/SUB slow joiner. Errors, which the original
 * answered with silence, come back as a header whose {@code dtype} carries the message, so the
 * stock client raises it instead of hanging.
 */
public final class ZmqDoor implements AutoCloseable {
  /** What the stock Python client checks against its own version. */
  static final String PROTOCOL_VERSION = "1.10.0";

  private static final Logger LOG = LoggerFactory.getLogger(ZmqDoor.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long SUBSCRIPTION_WAIT_MS = 10_000;

  private final ActorSystem<?> system;
  private final ActorRef<Frontend.Command> frontend;
  private final Duration timeout;
  private final boolean showTokens;
  private final boolean allowTermination;
  private final boolean fp16;
  private final ZContext context = new ZContext();
  private final ConcurrentLinkedQueue<Outgoing> outbox = new ConcurrentLinkedQueue<>();
  private final Thread receiver;
  private final Thread publisher;
  private volatile boolean running = true;

  private record Outgoing(byte[] client, byte[] header, byte[] raw, byte[] reqId, long since) {}

  public ZmqDoor(ActorSystem<?> system, ActorRef<Frontend.Command> frontend, String iface,
      int port, int portOut, Duration timeout, boolean showTokens, boolean allowTermination,
      boolean fp16) {
    this.fp16 = fp16;
    this.system = system;
    this.frontend = frontend;
    this.timeout = timeout;
    this.showTokens = showTokens;
    this.allowTermination = allowTermination;
    ZMQ.Socket pull = context.createSocket(SocketType.PULL);
    bind(pull, iface, port, "-port");
    pull.setReceiveTimeOut(200);
    ZMQ.Socket pub = context.createSocket(SocketType.XPUB);
    pub.setXpubVerbose(true);
    bind(pub, iface, portOut, "-port_out");
    pub.setReceiveTimeOut(0);
    receiver = new Thread(() -> receive(pull), "zmq-door-in");
    publisher = new Thread(() -> publish(pub), "zmq-door-out");
    receiver.setDaemon(true);
    publisher.setDaemon(true);
    receiver.start();
    publisher.start();
    LOG.info("ZeroMQ door on {}:{} (in) and {} (out)", iface, port, portOut);
  }

  /** Binds, or fails naming the address and the flag (JeroMQ says only "Errno 48"). */
  private void bind(ZMQ.Socket socket, String iface, int port, String flag) {
    try {
      socket.bind("tcp://" + iface + ":" + port);
    } catch (org.zeromq.ZMQException e) {
      context.close();
      throw new IllegalStateException("cannot bind the ZeroMQ door to " + iface + ":" + port + " ("
          + flag + "): " + (e.getErrorCode() == ZMQ.Error.EADDRINUSE.getCode()
              ? "address already in use" : e.getMessage()), e);
    }
  }

  private void receive(ZMQ.Socket pull) {
    while (running) {
      ZMsg msg;
      try {
        msg = ZMsg.recvMsg(pull);
      } catch (RuntimeException e) {
        if (running) {
          LOG.warn("ZeroMQ receive failed: {}", e.getMessage());
        }
        continue;
      }
      if (msg == null) {
        continue;
      }
      try {
        handle(msg);
      } catch (RuntimeException e) {
        LOG.warn("malformed ZeroMQ request: {}", e.getMessage());
      }
    }
    pull.close();
  }

  private void handle(ZMsg msg) {
    List<byte[]> frames = msg.stream().map(f -> f.getData()).toList();
    byte[] client = frames.isEmpty() ? null : frames.get(0);
    byte[] reqId = frames.size() >= 3 ? frames.get(2) : "-1".getBytes(StandardCharsets.US_ASCII);
    if (frames.size() != 4) {
      LOG.warn("ZeroMQ request with {} frames, expected [client, payload, req_id, msg_len]", frames.size());
      if (client != null) {
        error(client, frames.size() >= 3 ? reqId : "-1".getBytes(StandardCharsets.US_ASCII), 400,
            "expected 4 frames [client, payload, req_id, msg_len], got " + frames.size());
      }
      return;
    }
    String payload = new String(frames.get(1), StandardCharsets.UTF_8);
    switch (payload) {
      case "SHOW_CONFIG", "SHOW_STATUS" -> status(client, reqId);
      case "TERMINATION" -> terminate(client, reqId);
      default -> encode(client, reqId, payload, new String(frames.get(3), StandardCharsets.US_ASCII));
    }
  }

  private void encode(byte[] client, byte[] reqId, String payload, String msgLen) {
    JsonNode texts;
    try {
      texts = JSON.readTree(payload);
    } catch (Exception e) {
      error(client, reqId, 400, "payload is not JSON: " + e.getMessage().split("\n")[0]);
      return;
    }
    if (texts == null || !texts.isArray()) {
      error(client, reqId, 400, "payload must be a JSON list of texts (or of token lists)");
      return;
    }
    int declared;
    try {
      declared = Integer.parseInt(msgLen.trim());
    } catch (NumberFormatException e) {
      error(client, reqId, 400, "msg_len '" + msgLen + "' is not a number");
      return;
    }
    if (declared != texts.size()) {
      error(client, reqId, 400, "msg_len " + declared + " does not match the " + texts.size()
          + " texts sent");
      return;
    }
    boolean tokenized = texts.size() > 0 && texts.get(0).isArray();
    EncodeRequest request = new EncodeRequest(null, texts, tokenized, showTokens);
    AskPattern.<Frontend.Command, EncodeOutcome>ask(frontend, r -> new Frontend.Encode(request, r),
            timeout, system.scheduler())
        .whenComplete((outcome, e) -> {
          if (e != null) {
            error(client, reqId, 504, "no answer in time");
          } else if (outcome instanceof EncodeFailure f) {
            error(client, reqId, f.status(), f.description());
          } else {
            vectors(client, reqId, (EncodeReply) outcome);
          }
        });
  }

  private void vectors(byte[] client, byte[] reqId, EncodeReply reply) {
    int rows = reply.rows().size();
    ObjectNode header = JSON.createObjectNode();
    // float16 on the wire under -fp16, as the original; C order, little-endian
    header.put("dtype", fp16 ? "float16" : "float32");
    List<float[]> flat = new java.util.ArrayList<>();
    if (reply.tokenLevel()) {
      header.putArray("shape").add(rows).add(reply.outputLength()).add(reply.dim());
      for (float[][] matrix : reply.tokenMatrices()) {
        flat.addAll(java.util.Arrays.asList(matrix));
      }
    } else {
      header.putArray("shape").add(rows).add(reply.dim());
      flat.addAll(reply.rows());
    }
    int values = flat.stream().mapToInt(v -> v.length).sum();
    ByteBuffer raw = ByteBuffer.allocate(values * (fp16 ? 2 : 4)).order(ByteOrder.LITTLE_ENDIAN);
    for (float[] vector : flat) {
      for (float v : vector) {
        if (fp16) {
          raw.putShort(Half.fromFloat(v));
        } else {
          raw.putFloat(v);
        }
      }
    }
    header.set("tokens", reply.tokens() == null ? JSON.getNodeFactory().textNode("")
        : JSON.valueToTree(reply.tokens()));
    send(client, header, raw.array(), reqId);
  }

  private void status(byte[] client, byte[] reqId) {
    AskPattern.<Frontend.Command, StatusReply>ask(frontend, Frontend.GetStatus::new,
            Duration.ofSeconds(5), system.scheduler())
        .whenComplete((status, e) -> {
          if (e != null) {
            error(client, reqId, 504, "no status in time");
            return;
          }
          ObjectNode body = status.status().deepCopy();
          body.put("server_version_jvm", body.path("server_version").asText());
          body.put("server_version", PROTOCOL_VERSION);
          body.put("client", new String(client, StandardCharsets.UTF_8));
          outbox.add(new Outgoing(client, json(body), null, reqId, System.currentTimeMillis()));
        });
  }

  private void terminate(byte[] client, byte[] reqId) {
    // a PULL socket does not say who sent a message: termination is only ever allowed when the
    // door itself listens on loopback alone
    if (!allowTermination) {
      error(client, reqId, 403, "TERMINATION is refused (start with bert-serving.zmq.allow-termination"
          + " = on and a loopback interface to allow it)");
      return;
    }
    LOG.warn("TERMINATION received on the ZeroMQ door: stopping the node");
    system.terminate();
  }

  private void error(byte[] client, byte[] reqId, int status, String description) {
    ObjectNode header = JSON.createObjectNode();
    header.put("dtype", "ERROR " + status + ": " + description);
    header.putArray("shape").add(0);
    header.put("status", status);
    header.put("error", description);
    header.put("tokens", "");
    send(client, header, new byte[0], reqId);
  }

  private void send(byte[] client, ObjectNode header, byte[] raw, byte[] reqId) {
    outbox.add(new Outgoing(client, json(header), raw, reqId, System.currentTimeMillis()));
  }

  private static byte[] json(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** One thread owns the publisher: it learns subscriptions and sends replies in order. */
  private void publish(ZMQ.Socket pub) {
    Set<String> subscribed = new HashSet<>();
    Map<String, ArrayDeque<Outgoing>> waiting = new HashMap<>();
    while (running) {
      byte[] event;
      while ((event = pub.recv(ZMQ.DONTWAIT)) != null) {
        if (event.length > 0) {
          String topic = new String(event, 1, event.length - 1, StandardCharsets.UTF_8);
          if (event[0] == 1) {
            subscribed.add(topic);
            ArrayDeque<Outgoing> held = waiting.remove(topic);
            if (held != null) {
              held.forEach(o -> write(pub, o));
            }
          } else {
            subscribed.remove(topic);
          }
        }
      }
      Outgoing o;
      boolean idle = true;
      while ((o = outbox.poll()) != null) {
        idle = false;
        String topic = new String(o.client(), StandardCharsets.UTF_8);
        if (subscribed.contains(topic)) {
          write(pub, o);
        } else {
          waiting.computeIfAbsent(topic, t -> new ArrayDeque<>()).add(o);
        }
      }
      long now = System.currentTimeMillis();
      waiting.values().forEach(q -> q.removeIf(w -> {
        boolean stale = now - w.since() > SUBSCRIPTION_WAIT_MS;
        if (stale) {
          LOG.warn("dropping a reply for client {}: it never subscribed", new String(w.client(),
              StandardCharsets.UTF_8));
        }
        return stale;
      }));
      if (idle) {
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          break;
        }
      }
    }
    pub.close();
  }

  private static void write(ZMQ.Socket pub, Outgoing o) {
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
      receiver.join(2000);
      publisher.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    context.close();
  }
}

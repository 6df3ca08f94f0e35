package org.bertserving.zmq;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.client.protocol.StatusReply;
import org.bertserving.client.protocol.WireMessage;
import org.bertserving.cluster.Frontend;
import org.bertserving.cluster.FrontendAsk;
import org.bertserving.cluster.ServedModel;
import org.bertserving.cluster.ServedModels;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMsg;

/**
 * bert-as-service 1.10's ZeroMQ protocol in front of the same frontend as HTTP: requests {@code
 * [client, payload, req_id, msg_len]} on a PULL socket ({@code -port}), replies {@code [client,
 * header, raw, req_id]} on a publisher ({@code -port_out}) with the client id as topic. The
 * publisher is an XPUB, so it sees subscriptions: a reply waits for its client's subscription
 * instead of being lost to the PUB/SUB slow joiner. Errors, which the original answered with
 * silence, come back as a header whose {@code dtype} carries the message, so the stock client
 * raises it instead of hanging.
 */
public final class ZmqDoor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ZmqDoor.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorSystem<?> system;
  private final ActorRef<Frontend.Command> frontend;
  private final Duration timeout;
  private final boolean showTokens;
  private final boolean allowTermination;
  private final String model;
  private final Supplier<ServedModels> served;
  private final Runnable stopNode;
  private final ZContext context = new ZContext();
  private final ZmqPublisher publisher;
  private final Thread receiver;
  private volatile boolean running = true;

  /**
   * Requests taken and not answered yet: a stop lets them finish before the replies' socket goes.
   */
  private final java.util.concurrent.atomic.AtomicInteger unanswered =
      new java.util.concurrent.atomic.AtomicInteger();

  private final int port;
  private final int portOut;

  public ZmqDoor(
      ActorSystem<?> system,
      ActorRef<Frontend.Command> frontend,
      String iface,
      int port,
      int portOut,
      Duration timeout,
      boolean showTokens,
      boolean allowTermination,
      String model,
      Supplier<ServedModels> served,
      Runnable stopNode) {
    this.model = model == null || model.isBlank() ? null : model;
    this.served = served;
    this.stopNode = stopNode;
    this.system = system;
    this.frontend = frontend;
    this.timeout = timeout;
    this.showTokens = showTokens;
    this.allowTermination = allowTermination;
    ZMQ.Socket pull = context.createSocket(SocketType.PULL);
    this.port = bind(pull, iface, port, "-port");
    pull.setReceiveTimeOut(200);
    ZMQ.Socket pub = context.createSocket(SocketType.XPUB);
    pub.setXpubVerbose(true);
    this.portOut = bind(pub, iface, portOut, "-port_out");
    pub.setReceiveTimeOut(0);
    publisher = new ZmqPublisher(pub, timeout);
    receiver = new Thread(() -> receive(pull), "zmq-door-in");
    receiver.setDaemon(true);
    receiver.start();
    LOG.info("ZeroMQ door on {}:{} (in) and {} (out)", iface, this.port, this.portOut);
  }

  /** The port the door takes requests on (the one the kernel chose when asked for 0). */
  public int port() {
    return port;
  }

  /** The port the door publishes replies on. */
  public int portOut() {
    return portOut;
  }

  /**
   * Binds (port 0: one the kernel chooses) and returns the port, or fails naming the address and
   * the flag (JeroMQ says only "Errno 48").
   */
  private int bind(ZMQ.Socket socket, String iface, int port, String flag) {
    try {
      socket.bind("tcp://" + iface + ":" + (port == 0 ? "*" : String.valueOf(port)));
      String endpoint = socket.getLastEndpoint();
      return Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
    } catch (org.zeromq.ZMQException e) {
      context.close();
      throw new IllegalStateException(
          "cannot bind the ZeroMQ door to "
              + iface
              + ":"
              + port
              + " ("
              + flag
              + "): "
              + (e.getErrorCode() == ZMQ.Error.EADDRINUSE.getCode()
                  ? "address already in use"
                  : e.getMessage()),
          e);
    } catch (RuntimeException e) { // an endpoint JeroMQ reported in a form we did not expect
      context.close();
      throw new IllegalStateException(
          "cannot read the port the ZeroMQ door bound for " + flag + ": " + e.getMessage(), e);
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
      LOG.warn(
          "ZeroMQ request with {} frames, expected [client, payload, req_id, msg_len]",
          frames.size());
      if (client != null) {
        error(
            client,
            frames.size() >= 3 ? reqId : "-1".getBytes(StandardCharsets.US_ASCII),
            400,
            "expected 4 frames [client, payload, req_id, msg_len], got " + frames.size());
      }
      return;
    }
    String payload = new String(frames.get(1), StandardCharsets.UTF_8);
    switch (payload) {
      case "SHOW_CONFIG", "SHOW_STATUS" -> status(client, reqId);
      case "TERMINATION" -> terminate(client, reqId);
      default ->
          encode(client, reqId, payload, new String(frames.get(3), StandardCharsets.US_ASCII));
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
      error(
          client,
          reqId,
          400,
          "msg_len " + declared + " does not match the " + texts.size() + " texts sent");
      return;
    }
    boolean tokenized = texts.size() > 0 && texts.get(0).isArray();
    String tooLarge = tooLarge(texts.size());
    if (tooLarge != null) {
      error(client, reqId, 413, tooLarge);
      return;
    }
    unanswered.incrementAndGet();
    (texts.size() <= ZmqPieces.ROWS
            ? outcome(request(texts, tokenized))
            : inPieces(texts, tokenized))
        .whenComplete(
            (outcome, e) -> reply(client, reqId, e, () -> vectors(client, reqId, outcome)));
  }

  /**
   * Why {@code rows} texts of the door's model would not fit the reply's one frame (2 GiB), at the
   * width its workers describe, or {@code null}: refused before any of them is computed, now that
   * no row limit holds a corpus back. Unknown until a worker of the model is described.
   */
  private String tooLarge(int rows) {
    return ZmqFrames.tooLarge(rows, servedModel(model));
  }

  private EncodeRequest request(JsonNode texts, boolean tokenized) {
    return new EncodeRequest(null, texts, tokenized, showTokens).withModel(model);
  }

  /**
   * A request of more than {@link ZmqPieces#ROWS} texts, asked piece by piece ({@link ZmqPieces}),
   * {@link ZmqPieces#IN_FLIGHT} at a time, each with the request timeout from when it is sent;
   * their vectors joined in order. The first piece that fails fails the request, naming where its
   * texts start; a door that stops sends no more pieces and says so.
   */
  private CompletableFuture<EncodeOutcome> inPieces(JsonNode texts, boolean tokenized) {
    List<JsonNode> pieces = ZmqPieces.split(texts, ZmqPieces.ROWS);
    EncodeReply[] replies = new EncodeReply[pieces.size()];
    CompletableFuture<EncodeOutcome> done = new CompletableFuture<>();
    java.util.concurrent.atomic.AtomicInteger next =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger joined =
        new java.util.concurrent.atomic.AtomicInteger();
    Runnable[] sendNext = new Runnable[1];
    sendNext[0] =
        () -> {
          int i = next.getAndIncrement();
          if (i >= pieces.size() || done.isDone()) {
            return;
          }
          int from = i * ZmqPieces.ROWS;
          if (!running) {
            done.complete(
                EncodeFailure.of(
                    null,
                    503,
                    "unavailable",
                    "the node is stopping: texts "
                        + from
                        + " on were not sent; send the request again"));
            return;
          }
          outcome(request(pieces.get(i), tokenized))
              .whenComplete(
                  (outcome, e) -> {
                    try {
                      if (e != null) {
                        done.completeExceptionally(e);
                      } else if (outcome instanceof EncodeFailure f) {
                        // the pieces in flight still run (at most three), their vectors unused
                        done.complete(inPiece(f, from, pieces.get(i).size(), texts.size()));
                      } else {
                        replies[i] = (EncodeReply) outcome;
                        if (joined.incrementAndGet() == pieces.size()) {
                          done.complete(ZmqPieces.joined(List.of(replies)));
                        } else {
                          sendNext[0].run();
                        }
                      }
                    } catch (RuntimeException failure) { // answered all the same, never left
                      done.completeExceptionally(failure);
                    }
                  });
        };
    for (int w = 0; w < ZmqPieces.IN_FLIGHT; w++) {
      sendNext[0].run();
    }
    return done;
  }

  /**
   * A piece's failure as the request's: where the piece's texts are, its indices counted from
   * there.
   */
  private static EncodeFailure inPiece(EncodeFailure f, int from, int size, int total) {
    return new EncodeFailure(
        f.id(),
        f.status(),
        f.type(),
        "texts "
            + from
            + " to "
            + (from + size - 1)
            + " of "
            + total
            + " (sent as a piece of their own; its inputs count from "
            + from
            + "): "
            + f.description(),
        f.retryAfterSeconds());
  }

  /** What the frontend answers {@code request}, asked for at most the request timeout from now. */
  private CompletableFuture<EncodeOutcome> outcome(EncodeRequest request) {
    CompletableFuture<EncodeOutcome> result = new CompletableFuture<>();
    ask(request, System.nanoTime() + timeout.toNanos(), result);
    return result;
  }

  /**
   * Asks the frontend, for what is left of the request's timeout. A refusal that says when to come
   * back (503: no worker yet, as while the workers warm up; 429: overloaded) is asked again after
   * its Retry-After, at least a second, and a 503 only once a worker of the door's model is
   * described (so a request waiting out a warm-up is asked twice, not once a second), for as long
   * as the request's timeout lasts: the stock client cannot retry (it raises on any error reply),
   * and the original server held requests until its workers were ready. A door that stops, or a
   * timeout that runs out, answers with the refusal at once. {@code result} gets the outcome.
   */
  private void ask(EncodeRequest request, long deadline, CompletableFuture<EncodeOutcome> result) {
    try {
      FrontendAsk.encode(frontend, request, Duration.ofNanos(left(deadline)), system)
          .whenComplete(
              (outcome, e) -> {
                if (e != null) {
                  result.completeExceptionally(e);
                } else if (outcome instanceof EncodeFailure f && comeBack(f, deadline)) {
                  later(retryWait(f), () -> askAgain(request, deadline, f, result));
                } else {
                  result.complete(outcome);
                }
              });
    } catch (RuntimeException e) { // not asked (the node stopping): answered, never left
      result.complete(
          EncodeFailure.of(
              null, 503, "unavailable", "the request could not be taken: " + e.getMessage()));
    }
  }

  /** After a refusal's wait: asks again, waits on for a worker, or answers with the refusal. */
  private void askAgain(
      EncodeRequest request,
      long deadline,
      EncodeFailure refusal,
      CompletableFuture<EncodeOutcome> result) {
    if (!running || left(deadline) <= 0) {
      result.complete(refusal);
    } else if (refusal.status() == 503 && !modelServed()) {
      later(WORKER_POLL_NANOS, () -> askAgain(request, deadline, refusal, result));
    } else {
      ask(request, deadline, result);
    }
  }

  private static final long WORKER_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

  private static void later(long nanos, Runnable task) {
    CompletableFuture.delayedExecutor(nanos, TimeUnit.NANOSECONDS).execute(task);
  }

  private static long left(long deadline) {
    return deadline - System.nanoTime();
  }

  /** The model named {@code name} as its workers describe it ({@code null}: the default one). */
  private ServedModel servedModel(String name) {
    ServedModels models = served.get();
    return name == null ? models.defaultModel() : models.get(name);
  }

  /** Whether a worker of the door's model (or of any model, for the default) is described. */
  private boolean modelServed() {
    return servedModel(model) != null;
  }

  /** Whether a refusal is asked again: one that says to come back, in time, the door open. */
  private boolean comeBack(EncodeFailure f, long deadline) {
    return running && (f.status() == 503 || f.status() == 429) && left(deadline) > retryWait(f);
  }

  private static long retryWait(EncodeFailure f) {
    return TimeUnit.SECONDS.toNanos(Math.max(1, f.retryAfterSeconds()));
  }

  private void status(byte[] client, byte[] reqId) {
    unanswered.incrementAndGet();
    try {
      FrontendAsk.status(frontend, system)
          .whenComplete(
              (status, e) -> reply(client, reqId, e, () -> status(client, reqId, status)));
    } catch (RuntimeException e) {
      unanswered.decrementAndGet();
      error(client, reqId, 503, "the request could not be taken: " + e.getMessage());
    }
  }

  /**
   * Every request gets an answer, also when its reply cannot be made (the stage failed, or
   * rendering threw): the Python client waits for one and would hang without it.
   */
  private void reply(byte[] client, byte[] reqId, Throwable failure, Runnable render) {
    try {
      if (failure != null) {
        throw new IllegalStateException("the frontend's answer failed", failure);
      }
      render.run();
    } catch (RuntimeException e) {
      LOG.error("ZeroMQ answer could not be made; the client gets a 500", e);
      error(client, reqId, 500, "the answer could not be made: " + e);
    } finally {
      unanswered.decrementAndGet();
    }
  }

  private void vectors(byte[] client, byte[] reqId, EncodeOutcome outcome) {
    if (outcome instanceof EncodeFailure f) {
      error(client, reqId, f.status(), f.description());
      return;
    }
    EncodeReply vectors = (EncodeReply) outcome;
    ZmqFrames.Reply frames = ZmqFrames.vectors(vectors, float16(vectors.model()));
    publisher.send(client, frames.header(), frames.raw(), reqId);
  }

  /**
   * Whether the model that computed a reply runs in float16 ({@code -fp16}), as its workers
   * described it: the original sends its vectors in the model's dtype.
   */
  private boolean float16(String computedBy) {
    ServedModel m = servedModel(computedBy);
    return m != null && "float16".equals(m.dtype());
  }

  private void status(byte[] client, byte[] reqId, WireMessage status) {
    if (status instanceof EncodeFailure f) {
      error(client, reqId, f.status(), f.description());
      return;
    }
    JsonNode config = ((StatusReply) status).status();
    ServedModel own = model == null ? null : served.get().get(model);
    if (own != null) {
      // -zmq_model: the client checks its texts against the model it is served, not the default
      com.fasterxml.jackson.databind.node.ObjectNode mine =
          (com.fasterxml.jackson.databind.node.ObjectNode) config.deepCopy();
      if (own.maxSeqLen() > 0) {
        mine.put("max_seq_len", own.maxSeqLen());
      } else {
        mine.putNull("max_seq_len");
      }
      mine.put("pooling_strategy", own.pooling());
      config = mine;
    }
    publisher.send(client, ZmqFrames.status(config, client), null, reqId);
  }

  private void terminate(byte[] client, byte[] reqId) {
    // a PULL socket does not say who sent a message: termination is only ever allowed when the
    // door itself listens on loopback alone
    if (!allowTermination) {
      LOG.warn(
          "TERMINATION refused on the ZeroMQ door (bert-serving.zmq.allow-termination is off, or"
              + " the door listens beyond loopback); stop the node with SIGTERM");
      error(
          client,
          reqId,
          403,
          "TERMINATION is refused (start with bert-serving.zmq.allow-termination"
              + " = on and a loopback interface to allow it)");
      return;
    }
    LOG.warn("TERMINATION received on the ZeroMQ door: stopping the node");
    stopNode.run(); // as SIGTERM: the node leaves and stops, it does not rejoin
  }

  private void error(byte[] client, byte[] reqId, int status, String description) {
    ZmqFrames.Reply frames = ZmqFrames.error(status, description);
    publisher.send(client, frames.header(), frames.raw(), reqId);
  }

  /**
   * When the node stops (or leaves the cluster to rejoin): stops taking requests at coordinated
   * shutdown's first phase, as HTTP unbinds; lets the requests taken finish, as HTTP does, within
   * the request timeout (service-requests-done), their replies sent; then closes.
   */
  public void stopWith(ActorSystem<?> system) {
    akka.actor.CoordinatedShutdown shutdown =
        akka.actor.CoordinatedShutdown.get(akka.actor.typed.javadsl.Adapter.toClassic(system));
    shutdown.addTask(
        akka.actor.CoordinatedShutdown.PhaseServiceUnbind(),
        "zmq-door-unbind",
        () -> {
          stopReceiving();
          return java.util.concurrent.CompletableFuture.completedFuture(akka.Done.done());
        });
    shutdown.addTask(
        akka.actor.CoordinatedShutdown.PhaseServiceRequestsDone(),
        "zmq-door-requests-done",
        () ->
            java.util.concurrent.CompletableFuture.supplyAsync(
                () -> {
                  answered(System.nanoTime() + timeout.toNanos());
                  close();
                  return akka.Done.done();
                }));
  }

  /** Waits until every request taken is answered (its reply queued), or until {@code deadline}. */
  private void answered(long deadline) {
    while (unanswered.get() > 0 && deadline - System.nanoTime() > 0) {
      java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
    }
    if (unanswered.get() > 0) {
      LOG.warn("stopping the ZeroMQ door with {} request(s) unanswered", unanswered.get());
    }
  }

  private void stopReceiving() {
    running = false;
    try {
      receiver.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private final java.util.concurrent.atomic.AtomicBoolean closed =
      new java.util.concurrent.atomic.AtomicBoolean();

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    stopReceiving();
    publisher.close(); // sends what is queued first
    context.close();
  }
}

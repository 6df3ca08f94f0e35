package org.bertserving.zmq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.StatusReply;
import org.bertserving.cluster.Frontend;
import org.bertserving.engine.BertEncoder;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMsg;

/**
 * The ZeroMQ door driven by a JeroMQ client that builds the frames as bert-as-service 1.10's Python
 * client does: PUSH [client, payload, req_id, msg_len], SUB on the client id.
 */
class ZmqDoorTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static BertServer server;
  static int port;
  static int portOut;
  static BertEncoder direct;
  static ZContext zmq = new ZContext();

  /** A node of both roles with the ZeroMQ door on kernel-chosen loopback ports, and more keys. */
  static com.typesafe.config.Config zmqNode(Object... more) {
    return TestNodes.node(List.of("frontend", "worker"), 0, false, zmqKeys(more));
  }

  /** The keys of a ZeroMQ door on kernel-chosen loopback ports, and more. */
  static Map<String, Object> zmqKeys(Object... more) {
    Map<String, Object> keys = new java.util.HashMap<>();
    keys.put("bert-serving.zmq.enabled", true);
    keys.put("bert-serving.zmq.interface", "127.0.0.1");
    keys.put("bert-serving.zmq.port", 0);
    keys.put("bert-serving.zmq.port-out", 0);
    for (int i = 0; i < more.length; i += 2) {
      keys.put((String) more[i], more[i + 1]);
    }
    return keys;
  }

  @BeforeAll
  static void start() throws Exception {
    server =
        TestNodes.start(
            zmqNode(
                "bert-serving.frontend.show-tokens-to-client",
                true,
                // below the corpus the door sends in pieces
                "bert-serving.frontend.max-request-rows",
                1000));
    port = server.ports().zmq();
    portOut = server.ports().zmqOut();
    TestNodes.awaitWorkers(server, 1);
    direct = TestNodes.tinyEngine();
  }

  @AfterAll
  static void stop() {
    zmq.close();
    server.close();
    direct.close();
  }

  /** A client as the Python one: identity, a PUSH to port, a SUB on port_out. */
  static final class Client implements AutoCloseable {
    final String id = UUID.randomUUID().toString();
    final ZMQ.Socket push;
    final ZMQ.Socket sub;
    int requestId;

    Client() {
      this(port, portOut);
    }

    /** A client of the door on {@code port} and {@code portOut}. */
    Client(int port, int portOut) {
      this(zmq, port, portOut);
    }

    /**
     * A client on a ZeroMQ context of its own: for a door that stops while the client is still
     * connected, so that the shared context's I/O thread never reconnects to its dead ports.
     */
    Client(ZContext context, int port, int portOut) {
      push = context.createSocket(SocketType.PUSH);
      sub = context.createSocket(SocketType.SUB);
      push.connect("tcp://127.0.0.1:" + port);
      sub.connect("tcp://127.0.0.1:" + portOut);
      sub.subscribe(id.getBytes(StandardCharsets.UTF_8));
      sub.setReceiveTimeOut(30_000);
    }

    int send(String payload, int msgLen) {
      int req = requestId++;
      ZMsg msg = new ZMsg();
      msg.addLast(id.getBytes(StandardCharsets.UTF_8));
      msg.addLast(payload.getBytes(StandardCharsets.UTF_8));
      msg.addLast(String.valueOf(req));
      msg.addLast(String.valueOf(msgLen));
      msg.send(push);
      return req;
    }

    List<byte[]> receive() {
      ZMsg reply = ZMsg.recvMsg(sub);
      assertNotNull(reply, "a reply within 30 s");
      return reply.stream().map(f -> f.getData()).toList();
    }

    @Override
    public void close() {
      push.close();
      sub.close();
    }
  }

  static float[] floats(byte[] raw) {
    float[] out = new float[raw.length / 4];
    ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  @Test
  void encodesTextsAndTokenListsWithTokensInOrder() throws Exception {
    try (Client c = new Client()) {
      List<String> texts = List.of("hello world", "new york ||| big city", "a");
      int req = c.send(JSON.writeValueAsString(texts), texts.size());
      List<byte[]> reply = c.receive();
      assertEquals(4, reply.size(), "[client, header, raw, req_id]");
      assertEquals(c.id, new String(reply.get(0), StandardCharsets.UTF_8));
      assertEquals(String.valueOf(req), new String(reply.get(3), StandardCharsets.US_ASCII));
      JsonNode header = JSON.readTree(reply.get(1));
      assertEquals("float32", header.get("dtype").asText());
      assertEquals(3, header.get("shape").get(0).asInt());
      int dim = header.get("shape").get(1).asInt();
      float[] flat = floats(reply.get(2));
      float[][] expected = direct.encode(texts);
      for (int r = 0; r < 3; r++) {
        for (int d = 0; d < dim; d++) {
          assertEquals(expected[r][d], flat[r * dim + d], 1e-5, "row " + r);
        }
      }
      assertEquals("[CLS]", header.get("tokens").get(1).get(0).asText());

      c.send("[[\"hello\", \"world\"]]", 1);
      float[] tokenized = floats(c.receive().get(2));
      assertArrayEquals(expected[0], tokenized, 1e-5f);
    }
  }

  /**
   * The Python client sends a whole corpus in one encode: more texts than a request may hold
   * ({@code max-request-rows}, 1,000 on this node) come back whole and in order, cut into pieces of
   * 256 and joined again; a bad text in a later piece fails the request naming where it is.
   */
  @Test
  void aCorpusOfManyPiecesComesBackWholeInOrderAndABadTextIsNamed() throws Exception {
    try (Client c = new Client()) {
      List<String> texts = org.bertserving.engine.TinyBert.texts(1_300);
      int req = c.send(JSON.writeValueAsString(texts), texts.size());
      List<byte[]> reply = c.receive();
      assertEquals(String.valueOf(req), new String(reply.get(3), StandardCharsets.US_ASCII));
      JsonNode header = JSON.readTree(reply.get(1));
      assertEquals("float32", header.get("dtype").asText(), header.toString());
      assertEquals(texts.size(), header.get("shape").get(0).asInt());
      int dim = header.get("shape").get(1).asInt();
      float[] flat = floats(reply.get(2));
      assertEquals(texts.size() * dim, flat.length);
      float[][] expected = direct.encode(texts);
      for (int r = 0; r < texts.size(); r++) {
        for (int d = 0; d < dim; d++) {
          assertEquals(expected[r][d], flat[r * dim + d], 1e-5, "row " + r);
        }
      }
      assertEquals(texts.size(), header.get("tokens").size());
      assertEquals(texts.get(1_299).split(" ")[0], header.get("tokens").get(1_299).get(1).asText());

      List<String> bad = new java.util.ArrayList<>(texts.subList(0, 700));
      bad.set(600, "");
      c.send(JSON.writeValueAsString(bad), bad.size());
      JsonNode error = JSON.readTree(c.receive().get(1));
      assertEquals(400, error.get("status").asInt(), error.toString());
      assertTrue(error.get("error").asText().contains("texts 512 to 699 of 700"), error.toString());
      assertTrue(error.get("error").asText().contains("input 88: text is empty"), error.toString());
      c.send("[\"still works\"]", 1);
      assertEquals("float32", JSON.readTree(c.receive().get(1)).get("dtype").asText());
    }
  }

  @Test
  void configAndStatusCarryTheKeysThePythonClientReads() throws Exception {
    try (Client c = new Client()) {
      for (String command : List.of("SHOW_CONFIG", "SHOW_STATUS")) {
        int req = c.send(command, 0);
        List<byte[]> reply = c.receive();
        assertEquals(
            String.valueOf(req),
            new String(reply.get(reply.size() - 1), StandardCharsets.US_ASCII));
        JsonNode config = JSON.readTree(reply.get(1));
        assertEquals(
            "1.10.0", config.get("server_version").asText(), "the stock client's version check");
        assertEquals(16, config.get("max_seq_len").asInt());
        assertTrue(
            config.has("pooling_strategy")
                && config.has("show_tokens_to_client")
                && config.has("statistic")
                && config.has("server_version_jvm"),
            config.toString());
      }
    }
  }

  @Test
  void badRequestsGetAnErrorReplyAndTheDoorKeepsServing() throws Exception {
    try (Client c = new Client()) {
      c.send("[\"a\", \"b\"]", 3);
      assertTrue(
          JSON.readTree(c.receive().get(1))
              .get("dtype")
              .asText()
              .contains("msg_len 3 does not match"));
      c.send("[\"ok\", \"\"]", 2);
      JsonNode empty = JSON.readTree(c.receive().get(1));
      assertEquals(400, empty.get("status").asInt());
      assertTrue(empty.get("error").asText().contains("input 1: text is empty"), empty.toString());
      c.send("not json", 1);
      assertEquals(400, JSON.readTree(c.receive().get(1)).get("status").asInt());
      c.send("TERMINATION", 0);
      assertEquals(403, JSON.readTree(c.receive().get(1)).get("status").asInt());
      ZMsg malformed = new ZMsg();
      malformed.addLast(c.id.getBytes(StandardCharsets.UTF_8));
      malformed.addLast("[\"a\"]");
      malformed.addLast("7");
      malformed.send(c.push);
      JsonNode reply = JSON.readTree(c.receive().get(1));
      assertTrue(reply.get("error").asText().contains("expected 4 frames"), reply.toString());
      c.send("[\"still works\"]", 1);
      assertEquals("float32", JSON.readTree(c.receive().get(1)).get("dtype").asText());
    }
  }

  /**
   * With {@code -max_seq_len NONE} the config carries {@code null}, which the Python client reads
   * (it calls {@code int()} on anything else, "NONE" too, and could not connect); and TERMINATION,
   * allowed on loopback, stops the node for good as SIGTERM does (it used to end only the actor
   * system, which the node took for a removal from the cluster and rejoined).
   */
  @Test
  void maxSeqLenNoneIsNullAndTerminationStopsTheNode() throws Exception {
    BertServer node =
        TestNodes.start(
            zmqNode(
                "bert-serving.engine.max-seq-len",
                "NONE",
                "bert-serving.zmq.allow-termination",
                true));
    try (ZContext own = new ZContext();
        Client c = new Client(own, node.ports().zmq(), node.ports().zmqOut())) {
      TestNodes.awaitWorkers(node, 1);
      c.send("SHOW_CONFIG", 0);
      JsonNode config = JSON.readTree(c.receive().get(1));
      assertTrue(
          config.has("max_seq_len") && config.get("max_seq_len").isNull(), config.toString());
      c.send("TERMINATION", 0);
      node.closed().toCompletableFuture().get(90, java.util.concurrent.TimeUnit.SECONDS);
    } finally {
      node.close();
    }
  }

  /**
   * A client that sends before any worker is ready (started beside the server: the original's door
   * held requests until its workers were) gets its vectors once one is, not an error the stock
   * client would raise: the door asks the frontend again after each 503 while the request's timeout
   * lasts.
   */
  @Test
  void aRequestSentBeforeAnyWorkerIsReadyIsAnsweredOnceOneIs() throws Exception {
    try (BertServer front =
            TestNodes.start(TestNodes.node(List.of("frontend"), 0, true, zmqKeys()));
        ZContext own = new ZContext();
        Client c = new Client(own, front.ports().zmq(), front.ports().zmqOut())) {
      c.send("[\"hello world\"]", 1);
      TestNodes.await(
          () -> front.metrics().replies().getOrDefault(503, 0L) >= 1,
          30,
          "refused for want of a worker");
      try (BertServer worker =
          TestNodes.start(
              TestNodes.node(List.of("worker"), front.clusterPort(), false, Map.of()))) {
        List<byte[]> reply = c.receive();
        assertEquals(
            "float32",
            JSON.readTree(reply.get(1)).get("dtype").asText(),
            new String(reply.get(1), StandardCharsets.UTF_8));
        assertArrayEquals(direct.encode(List.of("hello world"))[0], floats(reply.get(2)), 1e-5f);
        // asked again once a worker was there, not once a second meanwhile
        assertTrue(front.metrics().requests.sum() <= 3, front.metrics().requests.sum() + " asks");
      }
    }
  }

  /**
   * A request taken before the node stops is answered before the door closes, as HTTP lets its
   * requests finish: the Python client, whose default timeout is none, would wait for good.
   */
  @Test
  void aRequestTakenBeforeTheNodeStopsIsAnswered() throws Exception {
    JsonNode header = answerAcrossAStop("[\"hello world\"]", 1);
    assertEquals("float32", header.get("dtype").asText(), header.toString());
  }

  /**
   * A node that stops in the middle of a corpus sends no more of its pieces and answers the request
   * once, naming the texts not sent, instead of leaving the client waiting.
   */
  @Test
  void aCorpusCutShortByAStopIsAnsweredOnceNamingWhatWasNotSent() throws Exception {
    // six pieces, four sent at once: the last two wait for a first one to end
    List<String> texts = org.bertserving.engine.TinyBert.texts(1_300);
    JsonNode header = answerAcrossAStop(JSON.writeValueAsString(texts), texts.size());
    assertEquals(503, header.path("status").asInt(), header.toString());
    assertTrue(
        header.get("error").asText().contains("the node is stopping: texts 1024 on were not sent"),
        header.toString());
  }

  /**
   * The door's answer to {@code payload}, sent to a node of its own whose next run takes 1.5 s and
   * which starts to stop as soon as its frontend took the request.
   */
  private static JsonNode answerAcrossAStop(String payload, int msgLen) throws Exception {
    BertServer node = TestNodes.start(zmqNode());
    try (ZContext own = new ZContext();
        Client c = new Client(own, node.ports().zmq(), node.ports().zmqOut())) {
      TestNodes.awaitWorkers(node, 1);
      c.send("[\"warm\"]", 1);
      c.receive(); // subscribed, and the engine warm
      node.faults().forEach(f -> f.delay(1500)); // the next run takes its time
      long before = node.metrics().requests.sum();
      c.send(payload, msgLen);
      TestNodes.await(
          () -> node.metrics().requests.sum() > before, 10, "the frontend took the request");
      Thread closing = new Thread(node::close, "test-stop");
      closing.start();
      JsonNode header = JSON.readTree(c.receive().get(1));
      closing.join(90_000);
      return header;
    } finally {
      node.close();
    }
  }

  @Test
  void tokenLevelFloat16RepliesUnderNoneAndFp16() throws Exception {
    try (BertServer none =
        TestNodes.start(
            zmqNode(
                "bert-serving.engine.pooling-strategy",
                "NONE",
                "bert-serving.engine.fp16",
                true))) {
      TestNodes.awaitWorkers(none, 1);
      int savedPort = port;
      int savedOut = portOut;
      port = none.ports().zmq();
      portOut = none.ports().zmqOut();
      try (Client c = new Client()) {
        c.send("[\"hello world\", \"a\"]", 2);
        List<byte[]> reply = c.receive();
        JsonNode header = JSON.readTree(reply.get(1));
        assertEquals("float16", header.get("dtype").asText());
        assertEquals(
            List.of(2, 16, 32),
            JSON.convertValue(
                header.get("shape"),
                new com.fasterxml.jackson.core.type.TypeReference<List<Integer>>() {}));
        assertEquals(2 * 16 * 32 * 2, reply.get(2).length, "two bytes a value");
      } finally {
        port = savedPort;
        portOut = savedOut;
      }
    }
  }

  /**
   * On a node serving two models, the door's requests go to {@code bert-serving.zmq.model}, not to
   * the default model, and come back in that model's dtype as its workers describe it (float16
   * under its own {@code fp16}, while the node's first model runs in float32).
   */
  @Test
  void theDoorServesItsConfiguredModelInThatModelsDtype() throws Exception {
    String tiny = TestNodes.tinyModel().toString();
    try (BertServer two =
        TestNodes.start(
            zmqNode(
                "bert-serving.engine.model-dir",
                "",
                "bert-serving.models",
                List.of(
                    Map.of("model_dir", tiny, "name", "vectors"),
                    Map.of(
                        "model_dir",
                        tiny,
                        "name",
                        "tokens",
                        "pooling_strategy",
                        "NONE",
                        "max_seq_len",
                        8,
                        "fp16",
                        true)),
                "bert-serving.zmq.model",
                "tokens"))) {
      TestNodes.awaitWorkers(two, 2);
      try (Client c = new Client(two.ports().zmq(), two.ports().zmqOut())) {
        c.send("[\"hello world\"]", 1);
        JsonNode header = JSON.readTree(c.receive().get(1));
        assertEquals("float16", header.get("dtype").asText(), header.toString());
        assertEquals(List.of(1, 8, 32), JSON.convertValue(header.get("shape"), List.class));
        // the config the client checks its texts against is that model's, not the default's
        c.send("SHOW_CONFIG", 0);
        JsonNode config = JSON.readTree(c.receive().get(1));
        assertEquals(8, config.get("max_seq_len").asInt(), config.toString());
        assertEquals("NONE", config.get("pooling_strategy").asText(), config.toString());
      }
    }
  }

  @Test
  void severalClientsAtOnceEachGetTheirOwnReplies() throws Exception {
    List<Client> clients = List.of(new Client(), new Client(), new Client(), new Client());
    try {
      for (int i = 0; i < clients.size(); i++) {
        clients.get(i).send(JSON.writeValueAsString(List.of("client number " + i, "the dog")), 2);
      }
      for (int i = 0; i < clients.size(); i++) {
        List<byte[]> reply = clients.get(i).receive();
        assertEquals(clients.get(i).id, new String(reply.get(0), StandardCharsets.UTF_8));
        float[] flat = floats(reply.get(2));
        float[] expected = direct.encode(List.of("client number " + i))[0];
        assertEquals(expected[0], flat[0], 1e-5);
      }
    } finally {
      clients.forEach(Client::close);
    }
  }

  /**
   * A reply that cannot be rendered is answered all the same, with its cause, and the door goes on.
   * Its seam: the door takes any frontend, and here a test probe plays it, answering with rows that
   * do not fit their reply's width (as rows of workers started with different pooling layers would
   * be): a real frontend only makes replies the door renders.
   */
  @Test
  void aReplyThatCannotBeRenderedIsAnsweredWithItsCauseAndTheDoorGoesOn() throws Exception {
    ActorTestKit kit = ActorTestKit.create();
    TestProbe<Frontend.Command> frontend = kit.createTestProbe();
    try (ZmqDoor door =
            new ZmqDoor(
                kit.system(),
                frontend.getRef(),
                "127.0.0.1",
                0,
                0,
                Duration.ofSeconds(10),
                false,
                false,
                null,
                () -> org.bertserving.cluster.ServedModels.NONE,
                () -> {});
        Client c = new Client(door.port(), door.portOut())) {
      c.send("[\"a\", \"b\"]", 2);
      Frontend.Encode ragged = frontend.expectMessageClass(Frontend.Encode.class);
      ragged.replyTo().tell(reply(new float[4], new float[3]));
      JsonNode error = JSON.readTree(c.receive().get(1));
      assertEquals(500, error.path("status").asInt(), error.toString());
      assertTrue(
          error.get("error").asText().contains("row 1 has 3 values, which does not fit"),
          error.toString());

      c.send("SHOW_CONFIG", 0); // a status that is not a JSON object cannot be rendered either
      frontend
          .expectMessageClass(Frontend.GetStatus.class)
          .replyTo()
          .tell(new StatusReply(JSON.createArrayNode()));
      assertEquals(500, JSON.readTree(c.receive().get(1)).path("status").asInt());

      c.send("[\"c\"]", 1);
      frontend
          .expectMessageClass(Frontend.Encode.class)
          .replyTo()
          .tell(reply(new float[] {1, 2, 3, 4}));
      List<byte[]> served = c.receive();
      assertEquals("float32", JSON.readTree(served.get(1)).get("dtype").asText());
      assertArrayEquals(new float[] {1, 2, 3, 4}, floats(served.get(2)));
    } finally {
      kit.shutdownTestKit();
    }
  }

  /** Pooled rows, four values wide by the reply's word. */
  static EncodeReply reply(float[]... rows) {
    return new EncodeReply(null, 4, 0, false, List.of(rows), null, new int[rows.length]);
  }
}

package org.bertserving.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.AbstractActor;
import akka.actor.ActorSystem;
import akka.actor.Props;
import akka.cluster.Cluster;
import akka.cluster.client.ClusterClientReceptionist;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.client.protocol.StatusReply;
import org.bertserving.client.protocol.StatusRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The cluster transport against a gateway that answers one row fewer than it was sent: a real
 * one-node Akka cluster on loopback, its {@code /user/bert-gateway} registered with the
 * ClusterClientReceptionist as the service registers its own, and the SDK's client.
 */
class ClusterBertClientTest {
  private ActorSystem cluster;
  private int port;

  /** Answers every encode with a vector for each input but the last. */
  static final class ShortGateway extends AbstractActor {
    @Override
    public Receive createReceive() {
      return receiveBuilder()
          .match(
              EncodeRequest.class,
              r -> {
                List<float[]> rows = new ArrayList<>();
                int[] counts = new int[r.texts().size() - 1];
                for (int i = 0; i < counts.length; i++) {
                  rows.add(new float[] {i, 1});
                  counts[i] = 3;
                }
                getSender().tell(new EncodeReply(r.id(), 2, 0, false, rows, null, counts), self());
              })
          .match(
              StatusRequest.class,
              s -> getSender().tell(new StatusReply(JsonNodeFactory.instance.objectNode()), self()))
          .build();
    }
  }

  @BeforeEach
  void startCluster() throws Exception {
    cluster =
        ActorSystem.create(
            "bert-serving",
            ConfigFactory.parseString(
                    String.join(
                        "\n",
                        "akka.actor.provider = cluster",
                        "akka.remote.artery.canonical.hostname = 127.0.0.1",
                        "akka.remote.artery.canonical.port = 0",
                        "akka.actor.allow-java-serialization = off",
                        "akka.actor.serialization-bindings {",
                        "  \"org.bertserving.client.protocol.WireMessage\" = jackson-cbor",
                        "}",
                        "akka.cluster.jmx.multi-mbeans-in-same-jvm = on",
                        "akka.coordinated-shutdown.exit-jvm = off",
                        "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off"))
                .withFallback(ConfigFactory.load()));
    Cluster node = Cluster.get(cluster);
    CompletableFuture<Void> up = new CompletableFuture<>();
    node.registerOnMemberUp(() -> up.complete(null));
    node.join(node.selfAddress());
    up.get(30, TimeUnit.SECONDS);
    ClusterClientReceptionist.get(cluster)
        .registerService(cluster.actorOf(Props.create(ShortGateway.class), "bert-gateway"));
    port = (int) node.selfAddress().getPort().get();
  }

  @AfterEach
  void stopCluster() throws Exception {
    cluster.terminate();
    cluster.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void aReplyShortOfRowsFailsTheCallInsteadOfShiftingVectors() throws Exception {
    try (BertClient client =
        BertClient.cluster(List.of("127.0.0.1:" + port), "127.0.0.1", Duration.ofSeconds(30), 0)) {
      BertClientException e =
          assertThrows(BertClientException.class, () -> client.encode(List.of("a", "b", "c")));
      assertTrue(e.getMessage().contains("answered 2 rows for 3 inputs"), e.getMessage());

      ExecutionException async =
          assertThrows(ExecutionException.class, () -> client.encodeAsync(List.of("a", "b")).get());
      assertTrue(async.getCause() instanceof BertClientException, String.valueOf(async));
      assertTrue(
          async.getCause().getMessage().contains("answered 1 rows for 2 inputs"),
          async.getCause().getMessage());
    }
  }

  @Test
  void aServersWaitIsHeldBetweenNoneAndAMinute() {
    assertEquals(0, Attempts.waitMillis(-5));
    assertEquals(3_000, Attempts.waitMillis(3));
    // a proxy's Retry-After of a day, or a number near overflow
    assertEquals(Attempts.MAX_WAIT_MILLIS, Attempts.waitMillis(86_400));
    assertEquals(Attempts.MAX_WAIT_MILLIS, Attempts.waitMillis(Long.MAX_VALUE));
  }
}

package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.ActorPaths;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.client.ClusterClient;
import akka.cluster.client.ClusterClientSettings;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.engine.BertEncoder;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/**
 * A JVM outside the cluster reaches the service through Akka's cluster client, at the SDK gateway
 * only: the frontend and its internal messages are not reachable that way.
 */
class ClusterClientTest {

  @Test
  void aClusterClientEncodesAndGetsErrorsAsReplies() throws Exception {
    ActorTestKit client = null;
    try (BertServer server =
            TestNodes.start(TestNodes.node(List.of("frontend", "worker"), 0, false, Map.of()));
        BertEncoder direct = TestNodes.tinyEngine()) {
      akka.actor.ActorSystem classic =
          akka.actor.ActorSystem.create(
              "client",
              ConfigFactory.parseString(
                      String.join(
                          "\n",
                          "akka.actor.provider = remote",
                          "akka.remote.artery.canonical.hostname = 127.0.0.1",
                          "akka.remote.artery.canonical.port = 0",
                          "akka.actor.serialize-messages = on",
                          "akka.coordinated-shutdown.exit-jvm = off",
                          "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off"))
                  .withFallback(org.bertserving.server.NodeConfig.load(ConfigFactory.empty())));
      client = ActorTestKit.create(Adapter.toTyped(classic));
      var contact =
          ActorPaths.fromString(
              "akka://bert-serving@127.0.0.1:" + server.clusterPort() + "/system/receptionist");
      var clusterClient =
          classic.actorOf(
              ClusterClient.props(
                  ClusterClientSettings.create(classic).withInitialContacts(Set.of(contact))),
              "bert-client");
      TestProbe<Object> probe = client.createTestProbe();
      akka.actor.ActorRef replyTo = Adapter.toClassic(probe.getRef());
      TestNodes.awaitWorkers(server, 1);
      // the frontend is internal: a cluster client cannot reach it, not even with a valid message
      clusterClient.tell(
          new ClusterClient.Send(
              "/user/frontend",
              new Frontend.Encode(
                  EncodeRequest.of(4, List.of("hello world"), false, true),
                  probe.getRef().narrow()),
              true),
          replyTo);
      clusterClient.tell(
          new ClusterClient.Send(
              "/user/frontend", new Frontend.JobDone(1, null, "intruder", 1, 1, 1, 1), true),
          replyTo);
      probe.expectNoMessage(Duration.ofSeconds(1));
      // only the gateway is: the SDK's own wire types in, outcomes back to the sender
      clusterClient.tell(
          new ClusterClient.Send(
              "/user/bert-gateway",
              EncodeRequest.of(5, List.of("hello world", "a"), false, true),
              true),
          replyTo);
      EncodeReply reply = probe.expectMessageClass(EncodeReply.class, Duration.ofSeconds(30));
      assertEquals(5, reply.id().asInt());
      float[][] expected = direct.encode(List.of("hello world", "a"));
      assertEquals(expected[1][3], reply.matrix()[1][3], 1e-5);
      assertEquals(List.of("[CLS]", "a", "[SEP]"), reply.tokens().get(1));

      clusterClient.tell(
          new ClusterClient.Send(
              "/user/bert-gateway", EncodeRequest.of(6, List.of(""), false, false), true),
          replyTo);
      EncodeFailure failure = probe.expectMessageClass(EncodeFailure.class, Duration.ofSeconds(10));
      assertEquals(400, failure.status());
      assertEquals(2, server.metrics().requests.sum(), "the frontend saw only the gateway's two");
    } finally {
      if (client != null) {
        client.shutdownTestKit();
      }
    }
  }
}

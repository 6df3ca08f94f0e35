package org.bertserving.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import akka.actor.typed.ActorSystem;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Down;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A node the cluster removes (downed after a pause or a partition, or because its only frontend was
 * lost) joins again in-process as a new incarnation with the same engines, by itself.
 */
class RejoinTest {

  @Test
  void aDownedWorkerNodeRejoinsAsANewIncarnation() throws Exception {
    try (BertServer frontend =
            TestNodes.start(TestNodes.node(List.of("frontend"), 0, false, Map.of()));
        BertServer worker =
            TestNodes.start(
                TestNodes.node(List.of("worker"), frontend.clusterPort(), true, Map.of()))) {
      TestNodes.awaitWorkers(frontend, 1);
      ActorSystem<Void> first = worker.system();
      Cluster.get(frontend.system())
          .manager()
          .tell(new Down(Cluster.get(first).selfMember().address()));
      TestNodes.await(
          () -> worker.metrics().rejoins.sum() == 1 && worker.system() != first,
          30,
          "the worker node started a new incarnation");
      TestNodes.await(
          () -> frontend.metrics().workers.get() == 1,
          30,
          "the new incarnation's worker registered with the frontend");
      TestNodes.await(
          () ->
              Cluster.get(worker.system()).selfMember().status() == akka.cluster.MemberStatus.up(),
          30,
          "the new incarnation is up: " + Cluster.get(worker.system()).selfMember());
      assertNotSame(first, worker.system());
      assertEquals(1, worker.metrics().rejoins.sum());
      // ports the kernel chose at the first start stay the node's: seed lists and clients still
      // find it
      assertEquals(worker.clusterPort(), worker.system().address().getPort().orElse(0));
      URI health = URI.create("http://127.0.0.1:" + worker.httpPort() + "/health");
      TestNodes.await(
          () ->
              HttpClient.newHttpClient()
                      .send(HttpRequest.newBuilder(health).build(), BodyHandlers.discarding())
                      .statusCode()
                  == 200,
          30,
          "the new incarnation's HTTP port is the first one's");
    }
  }

  /**
   * An incarnation that left the cluster but whose actor system does not end (here an actor of it
   * that blocks its stop, as Akka's remoting was seen to wait for its streams) cannot make way for
   * a new one: the node says so through {@code stuck()}, which the start command turns into exit 70
   * for its supervisor, instead of living on outside any cluster.
   */
  @Test
  void aRemovedIncarnationThatCannotEndIsReportedStuck() throws Exception {
    try (BertServer node =
        TestNodes.serving(
            Map.of(
                "akka.coordinated-shutdown.phases.actor-system-terminate.timeout",
                "1s",
                "bert-serving.cluster.stuck-termination-after",
                "3s"))) {
      java.util.concurrent.CountDownLatch blocking = new java.util.concurrent.CountDownLatch(1);
      node.system()
          .systemActorOf(
              akka.actor.typed.javadsl.Behaviors.receive(Object.class)
                  .onSignal(
                      akka.actor.typed.PostStop.class,
                      stop -> {
                        blocking.countDown();
                        Thread.sleep(15_000); // longer than the watch waits
                        return akka.actor.typed.javadsl.Behaviors.same();
                      })
                  .build(),
              "blocks-its-stop",
              akka.actor.typed.Props.empty());
      org.junit.jupiter.api.Assertions.assertFalse(
          node.stuck().toCompletableFuture().isDone(), "not stuck while it serves");
      Cluster.get(node.system())
          .manager()
          .tell(akka.cluster.typed.Leave.create(Cluster.get(node.system()).selfMember().address()));
      String why =
          node.stuck().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
      org.junit.jupiter.api.Assertions.assertTrue(
          blocking.getCount() == 0 && why.contains("did not terminate"), why);
      assertEquals(0, node.metrics().rejoins.sum(), "no new incarnation while the old one lives");
    }
  }
}

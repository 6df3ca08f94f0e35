package org.bertserving.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import akka.actor.typed.ActorSystem;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Down;
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
    int seed = TestNodes.freePort();
    int workerPort = TestNodes.freePort();
    try (BertServer frontend =
            BertServer.start(TestNodes.node(List.of("frontend"), seed, seed, 0, Map.of()));
        BertServer worker =
            BertServer.start(TestNodes.node(List.of("worker"), workerPort, seed, 0, Map.of()))) {
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
    }
  }
}

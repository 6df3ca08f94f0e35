package org.bertserving.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.cluster.typed.Cluster;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Formation without seed nodes, as on Kubernetes: Akka Management's Cluster Bootstrap finds the
 * contact points (here from config discovery instead of the Kubernetes API) on the management port,
 * forms one cluster, and a frontend restarted alone joins the running cluster, not an island of its
 * own.
 */
class ClusterBootstrapTest {

  static Map<String, Object> bootstrap(int management, int... contactPoints) {
    StringBuilder endpoints = new StringBuilder();
    for (int port : contactPoints) {
      endpoints
          .append(endpoints.length() == 0 ? "" : ",")
          .append("{host = \"127.0.0.1\", port = ")
          .append(port)
          .append("}");
    }
    return Map.of(
        "bert-serving.cluster.bootstrap",
        true,
        "bert-serving.management.port",
        management,
        "akka.discovery.config.services.bert-serving.endpoints",
        com.typesafe.config.ConfigFactory.parseString("e = [" + endpoints + "]")
            .getList("e")
            .unwrapped(),
        "akka.management.cluster.bootstrap.contact-point-discovery.discovery-method",
        "config",
        "akka.management.cluster.bootstrap.contact-point-discovery.service-name",
        "bert-serving",
        "akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr",
        2,
        "akka.management.cluster.bootstrap.contact-point-discovery.stable-margin",
        "1s",
        "akka.management.cluster.bootstrap.contact-point.filter-on-fallback-port",
        false);
  }

  static boolean hasMember(BertServer node, BertServer other) {
    akka.actor.Address address = other.system().address();
    return java.util.stream.StreamSupport.stream(
            Cluster.get(node.system()).state().getMembers().spliterator(), false)
        .anyMatch(m -> m.address().equals(address));
  }

  /**
   * A port no one listens on at this moment. Contact points are the one place where ports must be
   * known before any node starts (each node's list names every management port, its own too, and
   * Akka Management takes its own contact point from config), so the test chooses them first and
   * starts again on others if a node finds one taken meanwhile.
   */
  static int unusedPort() throws java.io.IOException {
    try (java.net.ServerSocket probe =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return probe.getLocalPort();
    }
  }

  /** A test on two management ports chosen first. */
  interface OnPorts {
    void run(int frontendManagement, int workerManagement) throws Exception;
  }

  /** Runs {@code test} on two unused ports, again on others if a node finds one taken meanwhile. */
  static void onUnusedPorts(OnPorts test) throws Exception {
    for (int attempt = 1; ; attempt++) {
      try {
        test.run(unusedPort(), unusedPort());
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        if (attempt == 3 || !String.valueOf(e.getCause()).contains("cannot bind management")) {
          throw e;
        }
      }
    }
  }

  @Test
  void nodesFormOneClusterByBootstrapAndARestartedFrontendJoinsIt() throws Exception {
    onUnusedPorts(this::formAndRestart);
  }

  /**
   * As cluster-conf/kubernetes.conf discovers them: only frontends are contact points. A worker
   * started first, whose own management port is no contact point, joins the cluster the frontend
   * forms (a worker still loading, or failing, never holds back the first formation). When that
   * frontend leaves gracefully and a new one forms a cluster of its own, which cannot find the
   * worker, the worker leaves its cluster without frontends and joins the new one.
   */
  @Test
  void aWorkerThatIsNoContactPointJoinsTheClusterTheFrontendsForm() throws Exception {
    onUnusedPorts(this::frontendsOnly);
  }

  private void frontendsOnly(int frontendManagement, int workerManagement) throws Exception {
    Map<String, Object> one = new java.util.HashMap<>(bootstrap(0, frontendManagement));
    one.put(
        "akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr", 1);
    one.put("bert-serving.cluster.rejoin-without-frontend-after", "2s");
    Map<String, Object> workerConfig = new java.util.HashMap<>(one);
    workerConfig.put("bert-serving.management.port", workerManagement);
    Map<String, Object> frontendConfig = new java.util.HashMap<>(one);
    frontendConfig.put("bert-serving.management.port", frontendManagement);
    try (BertServer worker =
        TestNodes.start(TestNodes.node(List.of("worker"), 0, false, workerConfig))) {
      try (BertServer frontend =
          TestNodes.start(TestNodes.node(List.of("frontend"), 0, false, frontendConfig))) {
        TestNodes.awaitWorkers(frontend, 1);
        TestNodes.await(() -> hasMember(worker, frontend), 30, "the worker is in the cluster");
      }
      assertEquals(0, worker.metrics().rejoins.sum(), "a graceful leave downs no worker");
      // the new frontend finds no cluster (the worker is no contact point) and forms its own
      try (BertServer again =
          TestNodes.start(TestNodes.node(List.of("frontend"), 0, false, frontendConfig))) {
        TestNodes.awaitWorkers(again, 1);
        assertEquals(
            1, worker.metrics().rejoins.sum(), "the worker left its frontend-less cluster");
      }
    }
  }

  private void formAndRestart(int frontendManagement, int workerManagement) throws Exception {
    Map<String, Object> frontendConfig =
        bootstrap(frontendManagement, frontendManagement, workerManagement);
    try (BertServer worker =
        TestNodes.start(
            TestNodes.node(
                List.of("worker"),
                0,
                false,
                bootstrap(workerManagement, frontendManagement, workerManagement)))) {
      BertServer frontend =
          TestNodes.start(TestNodes.node(List.of("frontend"), 0, false, frontendConfig));
      try {
        TestNodes.awaitWorkers(frontend, 1);
        assertEquals(2, Cluster.get(frontend.system()).state().members().size());
      } finally {
        frontend.close();
      }
      // the frontend comes back alone: the worker's cluster is still there and takes it in
      BertServer again =
          TestNodes.start(TestNodes.node(List.of("frontend"), 0, false, frontendConfig));
      try {
        TestNodes.awaitWorkers(again, 1);
        // one cluster, not two: each node has the other as a member, and (once gossip has
        // converged; the leader is the lowest address, which may be either) the same leader
        TestNodes.await(
            () ->
                hasMember(worker, again)
                    && hasMember(again, worker)
                    && Cluster.get(worker.system())
                        .state()
                        .getLeader()
                        .equals(Cluster.get(again.system()).state().getLeader()),
            30,
            "one cluster, not two");
        assertEquals(0, worker.metrics().rejoins.sum(), "the worker stayed in its cluster");
      } finally {
        again.close();
      }
    }
  }
}

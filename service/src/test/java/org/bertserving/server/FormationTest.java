package org.bertserving.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.Map;
import org.bertserving.cluster.ServingSettings;
import org.bertserving.http.Wire;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * How a node forms or finds its cluster when it is started on ports the kernel chooses: what real
 * nodes do, what they refuse to start with, and the log line through which those ports are read
 * back. (That a later incarnation opens the ports the first one bound is {@link RejoinTest}'s.)
 */
class FormationTest {

  static int upMembers(BertServer node) {
    int up = 0;
    for (akka.cluster.Member m : Cluster.get(node.system()).state().getMembers()) {
      up += m.status() == MemberStatus.up() ? 1 : 0;
    }
    return up;
  }

  @Test
  void aOneRoleNodeFormsAClusterOnlyWhenToldToJoinItselfAndOthersJoinItBySeed() throws Exception {
    // join-self, as TestNodes sets it for a lone one-role node: it forms a cluster of its own
    try (BertServer frontend =
            TestNodes.start(TestNodes.node(List.of("frontend"), 0, true, Map.of()));
        BertServer worker =
            TestNodes.start(
                TestNodes.node(List.of("worker"), frontend.clusterPort(), false, Map.of()))) {
      TestNodes.await(() -> upMembers(frontend) == 2, 30, "the worker joined by its seed, Up");
      TestNodes.awaitWorkers(frontend, 1);
    }
    String alone =
        TestNodes.refusal(List.of("frontend"), 0, Map.of("bert-serving.cluster.join-self", false));
    assertTrue(alone.contains("needs -seed_nodes"), alone);
    String both =
        TestNodes.refusal(List.of("worker"), 25520, Map.of("bert-serving.cluster.join-self", true));
    assertTrue(both.contains("join-self") && both.contains("-seed_nodes"), both);
  }

  @Test
  void clusterBootstrapNeedsAFixedManagementPort() {
    String any =
        TestNodes.refusal(List.of("worker"), 0, Map.of("bert-serving.cluster.bootstrap", true));
    assertTrue(any.contains("bert-serving.management.port") && any.contains("not 0"), any);
    // with one, the settings pass (a bootstrapped cluster is ClusterBootstrapTest's)
    ServingSettings.create(
            TestNodes.node(
                List.of("worker"),
                0,
                false,
                Map.of(
                    "bert-serving.cluster.bootstrap", true, "bert-serving.management.port", 8558)))
        .checkFormation();
  }

  /**
   * A node on loopback (cluster-conf's default address) with a seed on another host would never
   * join: refused at start, naming -cluster_host. Seeds on this machine, by loopback or by one of
   * its own addresses, are fine.
   */
  @Test
  void aLoopbackNodeWithASeedOnAnotherHostIsRefusedNamingClusterHost() throws Exception {
    ServingSettings remote =
        ServingSettings.create(
            TestNodes.node(
                List.of("worker"),
                0,
                false,
                Map.of(
                    "akka.cluster.seed-nodes",
                    List.of(
                        "akka://bert-serving@127.0.0.1:25520",
                        "akka://bert-serving@192.0.2.7:25520"))));
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> remote.checkAddress("127.0.0.1"));
    assertTrue(
        e.getMessage().contains("-cluster_host") && e.getMessage().contains("192.0.2.7"),
        e.getMessage());
    remote.checkAddress("192.0.2.8"); // a routable address of its own: the seed can reach it
    String refused =
        TestNodes.refusal(
            List.of("worker"),
            0,
            Map.of(
                "akka.cluster.seed-nodes",
                List.of("akka://bert-serving@192.0.2.7:25520"),
                "bert-serving.cluster.join-self",
                false));
    assertTrue(refused.contains("-cluster_host"), refused);
    java.util.List<String> own =
        new java.util.ArrayList<>(List.of("akka://bert-serving@localhost:25520"));
    for (java.net.NetworkInterface nic :
        java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      for (java.net.InetAddress a : java.util.Collections.list(nic.getInetAddresses())) {
        if (a instanceof java.net.Inet4Address && !a.isLoopbackAddress()) {
          own.add("akka://bert-serving@" + a.getHostAddress() + ":25520");
        }
      }
    }
    ServingSettings.create(
            TestNodes.node(List.of("worker"), 0, false, Map.of("akka.cluster.seed-nodes", own)))
        .checkAddress("127.0.0.1");
  }

  /** The frontend watch's setting is read with the others at start: a bad one names its key. */
  @Test
  void aNegativeRejoinWithoutFrontendIsRefusedNamingItsKey() {
    assertEquals(
        java.time.Duration.ZERO,
        ServingSettings.create(TestNodes.node(List.of("worker"), 0, true, Map.of()))
            .rejoinWithoutFrontend(),
        "off by default: with seed nodes that list workers, a frontend finds them");
    String refused =
        TestNodes.refusal(
            List.of("worker"),
            0,
            Map.of(
                "bert-serving.cluster.join-self",
                true,
                "bert-serving.cluster.rejoin-without-frontend-after",
                "-1s"));
    assertTrue(refused.contains("bert-serving.cluster.rejoin-without-frontend-after"), refused);
  }

  @Test
  void theLoggedPortsAreTheOnesTheNodeServesOn() throws Exception {
    Logger log = (Logger) LoggerFactory.getLogger(BertServer.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    log.addAppender(lines);
    try (BertServer node = TestNodes.serving(Map.of())) {
      String logged =
          lines.list.stream()
              .map(ILoggingEvent::getFormattedMessage)
              .filter(m -> m.startsWith("ports open: "))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no \"ports open\" line: " + lines.list));
      NodePorts ports = NodePorts.find(logged);
      assertEquals(node.ports(), ports, logged);
      assertNotEquals(0, ports.http(), logged);
      assertEquals(node.clusterPort(), ports.cluster(), logged);
      assertEquals(200, Wire.get("http://127.0.0.1:" + ports.http() + "/health").statusCode());
      assertEquals(
          200, Wire.get("http://127.0.0.1:" + ports.management() + "/health").statusCode());
    } finally {
      log.detachAppender(lines);
    }
  }
}

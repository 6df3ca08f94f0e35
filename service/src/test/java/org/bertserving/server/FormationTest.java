package org.bertserving.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.bertserving.cluster.ServingSettings;
import org.junit.jupiter.api.Test;

/**
 * How a node may form or find its cluster when it is started on ports the kernel chooses, and the
 * line through which those ports are read back. (That a later incarnation opens the ports the first
 * one bound is {@link RejoinTest}'s.)
 */
class FormationTest {

  static ServingSettings settings(List<String> roles, int seedPort, Map<String, Object> more) {
    return ServingSettings.create(TestNodes.node(roles, seedPort, false, more));
  }

  static String refusal(ServingSettings settings) {
    return assertThrows(IllegalArgumentException.class, settings::checkFormation).getMessage();
  }

  @Test
  void aOneRoleNodeFormsAClusterOnlyWhenToldToJoinItself() {
    settings(List.of("frontend"), 0, Map.of()).checkFormation(); // join-self, as TestNodes sets it
    String alone =
        refusal(settings(List.of("frontend"), 0, Map.of("bert-serving.cluster.join-self", false)));
    assertTrue(alone.contains("needs -seed_nodes"), alone);
    String both =
        refusal(settings(List.of("worker"), 25520, Map.of("bert-serving.cluster.join-self", true)));
    assertTrue(both.contains("join-self") && both.contains("-seed_nodes"), both);
  }

  @Test
  void clusterBootstrapNeedsAFixedManagementPort() {
    String any =
        refusal(settings(List.of("worker"), 0, Map.of("bert-serving.cluster.bootstrap", true)));
    assertTrue(any.contains("bert-serving.management.port") && any.contains("not 0"), any);
    settings(
            List.of("worker"),
            0,
            Map.of("bert-serving.cluster.bootstrap", true, "bert-serving.management.port", 8558))
        .checkFormation();
  }

  @Test
  void theLoggedPortsReadBack() {
    NodePorts ports = new NodePorts(41237, 40113, 39421, 0, 0);
    String log = "22:11:25.588 INFO  o.b.s.BertServer - ports open: " + ports + "\nmore\n";
    assertEquals(ports, NodePorts.find(log));
    assertNull(NodePorts.find("22:11:25.588 INFO  o.b.s.BertServer - loading"));
  }
}

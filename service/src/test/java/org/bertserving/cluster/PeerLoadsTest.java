package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The other frontends' news, aged on this node's clock, and when a frontend publishes its own. */
class PeerLoadsTest {
  static final long MS = 1_000_000;

  @Test
  void aFrontendIsForgottenWhenItsNewsIsOlderThanForgetAfter() {
    PeerLoads peers = new PeerLoads(Duration.ofSeconds(2), Duration.ofMillis(200));
    peers.heard("akka://bert-serving@10.0.0.1:25520", 3000, 0);
    peers.heard("akka://bert-serving@10.0.0.2:25520", 500, 1500 * MS);
    assertEquals(3500, peers.total(), 1e-9);
    assertEquals(2, peers.count());
    assertFalse(peers.expire(1999 * MS));
    assertTrue(peers.expire(2000 * MS), "the first has been silent for 2 s");
    assertEquals(Map.of("akka://bert-serving@10.0.0.2:25520", 500.0), peers.byFrontend());
    // news replaces the old news of the same frontend, and renews it
    peers.heard("akka://bert-serving@10.0.0.2:25520", 800, 3000 * MS);
    assertFalse(peers.expire(4900 * MS));
    assertEquals(800, peers.total(), 1e-9);
    assertTrue(peers.expire(5000 * MS));
    assertEquals(0, peers.count());
    assertEquals(0, peers.total(), 1e-9);
  }

  @Test
  void aFrontendPublishesFirstThenEveryIntervalAndAtOnceOnABigChange() {
    PeerLoads own = new PeerLoads(Duration.ofSeconds(2), Duration.ofMillis(200));
    assertTrue(own.publish(0, 10_000, 0), "the first time");
    assertFalse(own.publish(0, 10_000, 50 * MS));
    assertFalse(own.publish(999, 10_000, 60 * MS), "under a tenth of the budget");
    assertTrue(own.publish(1000, 10_000, 70 * MS), "a tenth of the budget: at once");
    assertFalse(own.publish(1500, 10_000, 100 * MS));
    assertTrue(own.publish(1500, 10_000, 270 * MS), "the heartbeat");
    assertTrue(own.publish(400, 10_000, 280 * MS), "a big drop too");
    assertTrue(own.publish(401, 0, 290 * MS), "budget unknown: any change of a token");
  }

  /** News from a node with a bug, or of another version, never poisons the sums admission uses. */
  @Test
  void backlogsThatAreNotNumbersCountAsNone() {
    PeerLoads peers = new PeerLoads(Duration.ofSeconds(2), Duration.ofMillis(200));
    Map<String, Double> odd = new java.util.HashMap<>();
    odd.put("m", null);
    odd.put("n", Double.NaN);
    odd.put("o", -5.0);
    odd.put("p", 70.0);
    peers.heard("akka://bert-serving@10.0.0.1:25520", Double.NaN, odd, 0);
    peers.heard("akka://bert-serving@10.0.0.2:25520", Double.POSITIVE_INFINITY, null, 0);
    peers.heard("akka://bert-serving@10.0.0.3:25520", 30, Map.of("p", 5.0), 0);
    assertEquals(30, peers.total(), 1e-9);
    assertEquals(Map.of("n", 0.0, "o", 0.0, "p", 75.0), peers.totalByModel());
  }
}

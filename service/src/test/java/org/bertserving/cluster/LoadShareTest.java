package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.FishingOutcomes;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.pubsub.Topic;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A frontend's load sharing as a real actor on a real pub-sub topic, its frontend played by a test
 * probe: news it cannot use (no sender, backlogs that are not numbers) neither stops it nor poisons
 * the sums it tells its frontend.
 */
class LoadShareTest {
  final ActorTestKit kit = LocalKit.create("");

  @AfterEach
  void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void newsItCannotUseIsIgnoredAndTheNextNewsCounts() {
    TestProbe<Frontend.Command> frontend = kit.createTestProbe();
    kit.spawn(
        LoadShare.create(
            frontend.getRef(),
            new LoadShare.Settings(Duration.ofMillis(100), Duration.ofSeconds(30))));
    ActorRef<Topic.Command<LoadShare.FrontendLoad>> topic =
        kit.spawn(Topic.create(LoadShare.FrontendLoad.class, LoadShare.TOPIC));
    ActorRef<LoadShare.Command> other = kit.<LoadShare.Command>createTestProbe().getRef();
    Map<String, Double> odd = new HashMap<>();
    odd.put("m", null);
    odd.put("n", Double.NaN);

    // the topic finds its subscriber in its own time: until then publications reach nobody
    Awaitility.await("the good news heard after the bad")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              topic.tell(Topic.publish(new LoadShare.FrontendLoad(null, 10, Map.of("m", 10.0))));
              topic.tell(Topic.publish(new LoadShare.FrontendLoad(other, Double.NaN, odd)));
              topic.tell(Topic.publish(new LoadShare.FrontendLoad(other, 40, Map.of("m", 40.0))));
              try {
                Frontend.Command told = frontend.receiveMessage(Duration.ofMillis(150));
                return told instanceof Frontend.OtherFrontends o && o.backlogTokens() == 40;
              } catch (AssertionError nothing) {
                return false;
              }
            });
    // once more, the bad news first: what the frontend is told stays numbers, the good news
    topic.tell(Topic.publish(new LoadShare.FrontendLoad(other, Double.NaN, odd)));
    topic.tell(Topic.publish(new LoadShare.FrontendLoad(other, 50, Map.of("m", 50.0))));
    frontend.fishForMessage(
        Duration.ofSeconds(5),
        "the news of 50 tokens",
        m -> {
          Frontend.OtherFrontends o = (Frontend.OtherFrontends) m;
          assertTrue(Double.isFinite(o.backlogTokens()), "numbers only: " + o);
          o.byModel().values().forEach(t -> assertTrue(Double.isFinite(t), "numbers only: " + o));
          return o.backlogTokens() == 50
              ? FishingOutcomes.complete()
              : FishingOutcomes.continueAndIgnore();
        });
  }
}

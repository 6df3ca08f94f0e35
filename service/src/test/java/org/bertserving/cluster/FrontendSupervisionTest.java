package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import java.time.Duration;
import java.util.List;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A failure in one request's handling never takes the frontend down. */
class FrontendSupervisionTest {
  static final ActorTestKit KIT = LocalKit.create("");

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  static EncodeRequest request() {
    return EncodeRequest.of(null, List.of("hello world"), false, false);
  }

  @Test
  void aFailureInOneRequestLeavesTheFrontendServing() {
    ServingSettings settings = ServingSettings.create(KIT.system().settings().config());
    ActorRef<Frontend.Command> frontend = KIT.spawn(Frontend.create(settings, new Metrics()));
    TestProbe<EncodeOutcome> client = KIT.createTestProbe();
    // injected: a request with nowhere to answer fails in its handling (no worker yet: a 503 sent
    // to nobody)
    frontend.tell(new Frontend.Encode(request(), null));
    frontend.tell(new Frontend.Encode(request(), client.getRef()));
    EncodeFailure answer = client.expectMessageClass(EncodeFailure.class, Duration.ofSeconds(10));
    assertEquals(503, answer.status(), "the frontend still answers: " + answer);
    assertEquals("no_worker", answer.type());
  }
}

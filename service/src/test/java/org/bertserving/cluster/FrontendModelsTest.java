package org.bertserving.cluster;

import static org.bertserving.cluster.FrontendDispatchTest.WAIT;
import static org.bertserving.cluster.FrontendDispatchTest.request;
import static org.bertserving.cluster.FrontendDispatchTest.rowsOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.LoggingTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import java.time.Duration;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.engine.ModelKind;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A frontend serving two models, on {@link FrontendDispatchTest}'s harness (real frontend and
 * aggregators, workers played by probes that name their model when asked): each model's jobs go
 * only to its workers and are sent again only to them, a request without a model goes to the
 * default one, an unknown model is a 404 naming those served, a model without a live worker a 503
 * at once while the other serves on.
 */
class FrontendModelsTest {
  final FrontendDispatchTest t = new FrontendDispatchTest();

  @AfterEach
  void stop() {
    t.stop();
  }

  /** A request of {@code texts} texts for {@code model} ({@code null}: none named). */
  void encode(String model, int texts, TestProbe<EncodeOutcome> client) {
    t.frontend.tell(new Frontend.Encode(request(texts).withModel(model), client.getRef()));
  }

  EncodeFailure refused(String model) {
    TestProbe<EncodeOutcome> client = t.kit.createTestProbe();
    encode(model, 1, client);
    return client.expectMessageClass(EncodeFailure.class, WAIT);
  }

  /** Waits until the frontend counts {@code count} workers, of every model. */
  void awaitWorkers(int count, String what) {
    TestNodes.await(() -> t.metrics.workers.get() == count, 10, what);
  }

  @Test
  void eachModelsJobsGoOnlyToItsOwnWorkersAndTheReplyNamesTheModel() {
    t.start();
    FrontendDispatchTest.ProbeWorker tiny = t.new ProbeWorker("tiny-1", 1, "tiny");
    tiny.describes(); // the first model joined: the default
    FrontendDispatchTest.ProbeWorker medium = t.new ProbeWorker("medium-1", 2, "medium");
    medium.describes();
    // listed, asked who it is, never answers: it must get no job, though it would have room
    FrontendDispatchTest.ProbeWorker silent = t.new ProbeWorker("medium-2", 3, "medium");
    silent.probe.expectMessageClass(Worker.Describe.class, WAIT);

    encode("medium", 4, t.client);
    Worker.Assignment first = medium.takes();
    tiny.takesNothingFor(Duration.ofMillis(300));
    silent.takesNothingFor(Duration.ofMillis(10));
    medium.computes(first);
    medium.computes(medium.takes());
    assertEquals("medium", t.answered(2, 2, 2, 2).model());

    encode(null, 2, t.client);
    tiny.computes(tiny.takes());
    medium.takesNothingFor(Duration.ofMillis(200));
    assertEquals("tiny", t.answered(1, 1).model(), "no model named: the first that joined");
    encode("tiny", 1, t.client);
    tiny.computes(tiny.takes());
    assertEquals("tiny", t.answered(1).model());
  }

  @Test
  void eachModelIsServedAsItsFirstWorkerDescribedItAndAWorkerThatDisagreesIsLogged() {
    t.start();
    t.new ProbeWorker("tiny-1", 1, "tiny").describes(16, "embedding");
    t.new ProbeWorker("cross-1", 2, "cross").describes(20, "rerank");
    FrontendDispatchTest.ProbeWorker odd = t.new ProbeWorker("cross-2", 3, "cross");
    LoggingTestKit.warn("worker cross-2 describes model cross with kind embedding (not rerank)")
        .withMessageContains("unlike its first worker cross-1")
        .expect(
            t.kit.system(),
            () -> {
              odd.describes(20, "embedding");
              return null;
            });
    awaitWorkers(3, "three workers of two models");
    ServedModels served = t.metrics.served;
    assertEquals("tiny", served.defaultName());
    assertEquals(ModelKind.RERANK, served.get("cross").kind(), "as its first worker said");
    assertEquals(20, served.get("cross").maxSeqLen());
    assertEquals("cross", served.ofKind(ModelKind.RERANK).name());
    assertEquals("tiny", served.ofKind(ModelKind.CLASSIFY, ModelKind.EMBEDDING).name());
    assertEquals(null, served.ofKind(ModelKind.CLASSIFY));
  }

  @Test
  void anUnknownModelIsA404NamingTheModelsServed() {
    t.start();
    EncodeFailure early = refused("bert-large");
    assertEquals(503, early.status(), "no worker at all yet: the model may still come");
    t.new ProbeWorker("tiny-1", 1, "tiny").describes();
    t.new ProbeWorker("medium-1", 2, "medium").describes();
    awaitWorkers(2, "both models joined");

    EncodeFailure unknown = refused("bert-large");
    assertEquals(404, unknown.status());
    assertEquals("model_not_found", unknown.type());
    assertTrue(
        unknown.description().contains("'bert-large'")
            && unknown.description().contains("tiny")
            && unknown.description().contains("medium"),
        unknown.description());
  }

  @Test
  void aModelWithoutLiveWorkerIsA503AtOnceItsJobsWaitForItsOwnAndTheOtherServesOn() {
    t.start();
    FrontendDispatchTest.ProbeWorker tiny = t.new ProbeWorker("tiny-1", 1, "tiny");
    tiny.describes();
    FrontendDispatchTest.ProbeWorker medium = t.new ProbeWorker("medium-1", 2, "medium");
    medium.describes();
    encode("medium", 2, t.client);
    Worker.Assignment held = medium.takes();

    medium.probe.stop(); // the Receptionist no longer lists it: its model has no worker
    awaitWorkers(1, "the medium worker gone");
    tiny.takesNothingFor(Duration.ofMillis(300)); // its job waits for a worker of its own model
    EncodeFailure down = refused("medium");
    assertEquals(503, down.status());
    assertEquals("no_worker", down.type());
    assertTrue(down.retryAfterSeconds() >= 1, "with Retry-After");
    assertTrue(down.description().contains("'medium'"), down.description());

    TestProbe<EncodeOutcome> other = t.kit.createTestProbe();
    encode("tiny", 1, other);
    tiny.computes(tiny.takes());
    assertEquals(
        "tiny", ((org.bertserving.client.protocol.EncodeReply) other.receiveMessage(WAIT)).model());

    FrontendDispatchTest.ProbeWorker back = t.new ProbeWorker("medium-2", 3, "medium");
    back.describes();
    Worker.Assignment again = back.takes();
    assertEquals(rowsOf(held), rowsOf(again), "the gone worker's rows, to its model's new worker");
    back.computes(again);
    assertEquals("medium", t.answered(3, 3).model());
  }

  @Test
  void theDefaultModelSetIsTheOneOfRequestsNamingNone() {
    t.start("bert-serving.frontend.default-model = medium");
    FrontendDispatchTest.ProbeWorker tiny = t.new ProbeWorker("tiny-1", 1, "tiny");
    tiny.describes();
    EncodeFailure notYet = refused(null);
    assertEquals(503, notYet.status(), "the default model has not joined: not the other one");
    assertTrue(notYet.description().contains("'medium'"), notYet.description());

    FrontendDispatchTest.ProbeWorker medium = t.new ProbeWorker("medium-1", 2, "medium");
    medium.describes();
    encode(null, 2, t.client);
    medium.computes(medium.takes());
    tiny.takesNothingFor(Duration.ofMillis(200));
    assertEquals("medium", t.answered(2, 2).model());
  }

  @Test
  void aBurstOnOneModelRefusesNothingOfTheOther() {
    t.start("bert-serving.frontend.max-pending-rows = 4");
    FrontendDispatchTest.ProbeWorker tiny = t.new ProbeWorker("tiny-1", 1, "tiny");
    tiny.describes();
    FrontendDispatchTest.ProbeWorker medium = t.new ProbeWorker("medium-1", 2, "medium");
    medium.describes();
    encode("medium", 4, t.client); // the medium model's bound: full
    Worker.Assignment held = medium.takes();
    EncodeFailure full = refused("medium");
    assertEquals(429, full.status(), full.description());
    assertTrue(full.description().contains("of model 'medium'"), full.description());

    TestProbe<EncodeOutcome> other = t.kit.createTestProbe();
    encode("tiny", 4, other);
    tiny.computes(tiny.takes());
    tiny.computes(tiny.takes());
    EncodeOutcome served = other.receiveMessage(WAIT);
    assertTrue(served instanceof org.bertserving.client.protocol.EncodeReply, served.toString());
    medium.computes(held);
    medium.computes(medium.takes());
    t.answered(2, 2, 2, 2);
  }
}

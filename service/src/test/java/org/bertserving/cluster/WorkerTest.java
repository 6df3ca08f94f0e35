package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.CallOptions;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One worker actor on the tiny model, its frontend and aggregator played by test probes: its thread
 * never blocks on the engine, a warm-up that fails is tried again until it works (the node saying
 * why it is not ready meanwhile), and a failure it does not expect restarts it with every job it
 * held given back.
 */
class WorkerTest {
  static final ActorTestKit KIT = LocalKit.create("akka.actor.serialize-messages = on");

  /** The worker's frontend and the aggregator of its jobs, new for every test. */
  final TestProbe<Frontend.Command> frontend = KIT.createTestProbe();

  final TestProbe<Aggregator.Command> aggregator = KIT.createTestProbe();
  static BertEncoder encoder;

  @BeforeAll
  static void load() throws Exception {
    encoder = TestNodes.tinyEngine();
  }

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
    encoder.close();
  }

  @AfterEach
  void reset() {
    encoder.faults().reset();
  }

  static Job job(ActorRef<Aggregator.Command> aggregator, String... texts) {
    return new Job(
        List.of(
            new Job.Segment(
                "r", aggregator, 0, List.of(texts), null, 0, 0, CallOptions.DEFAULTS, false)));
  }

  /** The message a frontend sends. */
  static Worker.Assignment assignment(long id, TestProbe<Frontend.Command> frontend, Job job) {
    return new Worker.Assignment(id, job, frontend.getRef());
  }

  static Job leaving(Job job) {
    Job local = job.arrived(System.nanoTime() + Duration.ofMinutes(1).toNanos());
    return local.leaving(System.nanoTime());
  }

  /** A worker of {@code node}, warmed up. */
  static ActorRef<Worker.Command> ready(NodeWorkers node) {
    ActorRef<Worker.Command> worker =
        KIT.spawn(Worker.create(encoder, node, new ResultChunker(8 << 20)));
    Awaitility.await("warmed up").atMost(Duration.ofSeconds(60)).until(node::allReady);
    return worker;
  }

  /** Sends {@code texts} as job {@code id} and checks the answer: every row, then the job done. */
  static void serves(
      ActorRef<Worker.Command> worker,
      TestProbe<Frontend.Command> frontend,
      TestProbe<Aggregator.Command> aggregator,
      long id,
      String... texts) {
    worker.tell(assignment(id, frontend, leaving(job(aggregator.getRef(), texts))));
    Aggregator.JobResult result =
        aggregator.expectMessageClass(Aggregator.JobResult.class, Duration.ofSeconds(30));
    assertEquals(texts.length, result.rows().size());
    assertEquals(id, frontend.expectMessageClass(Frontend.JobDone.class).jobId());
  }

  @Test
  void aWarmUpThatFailsIsTriedAgainWithoutBlockingTheActor() {
    NodeWorkers node = new NodeWorkers(1);
    encoder.faults().failNextRuns(1_000_000);
    ActorRef<Worker.Command> worker =
        KIT.spawn(Worker.create(encoder, node, new ResultChunker(8 << 20)));
    Awaitility.await("the node says why its worker is not ready")
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> node.notReady().toString().contains("warm-up failed: injected engine failure"));
    assertEquals(0, node.ready());

    // meanwhile the actor answers at once: a job sent to it comes back untried
    worker.tell(assignment(1, frontend, leaving(job(aggregator.getRef(), "hello world"))));
    Frontend.JobReturned returned =
        frontend.expectMessageClass(Frontend.JobReturned.class, Duration.ofSeconds(10));
    assertEquals(1, returned.jobId());

    encoder.faults().reset(); // the device works again: the next try warms up
    Awaitility.await("ready after a warm-up that works")
        .atMost(Duration.ofSeconds(60))
        .until(node::allReady);
    serves(worker, frontend, aggregator, 2, "hello world");
    KIT.stop(worker);
  }

  @Test
  void anUnexpectedFailureRestartsTheWorkerAndGivesItsJobBack() {
    NodeWorkers node = new NodeWorkers(1);
    ActorRef<Worker.Command> worker = ready(node);
    givesBackAFailedSend(worker, node, 7, "the dog");
    serves(worker, frontend, aggregator, 8, "the dog", "a cat");
    KIT.stop(worker);
  }

  /**
   * A job of more rows than the engine's thread sends itself: its rows are sent by the actor once
   * the next run has started, and a failure there, too, restarts the worker and gives the job back.
   */
  @Test
  void aLargeJobIsSentByTheActorAndAFailureThereGivesItBack() {
    NodeWorkers node = new NodeWorkers(1);
    ActorRef<Worker.Command> worker = ready(node);
    String[] texts = new String[WorkerJobs.ENGINE_SENDS_ROWS + 1];
    java.util.Arrays.fill(texts, "the dog");
    serves(worker, frontend, aggregator, 9, texts);
    givesBackAFailedSend(worker, node, 10, texts);
    serves(worker, frontend, aggregator, 11, texts);
    KIT.stop(worker);
  }

  /**
   * Job {@code id}, whose rows fail to be sent, goes back to its frontend without a row, and the
   * restarted worker is ready again with a new session.
   */
  private void givesBackAFailedSend(
      ActorRef<Worker.Command> worker, NodeWorkers node, long id, String... texts) {
    encoder.faults().failNextDeliveries(1);
    worker.tell(assignment(id, frontend, leaving(job(aggregator.getRef(), texts))));
    Frontend.JobReturned returned =
        frontend.expectMessageClass(Frontend.JobReturned.class, Duration.ofSeconds(30));
    assertEquals(id, returned.jobId(), "the job it held goes back to its frontend");
    aggregator.expectNoMessage(Duration.ofMillis(200));
    Awaitility.await("restarted with a new session, ready again")
        .atMost(Duration.ofSeconds(60))
        .until(node::allReady);
  }

  /**
   * A bug in reading one request's texts (not bad input, not the device) fails that request with
   * the cause, while the job's other request is served and the job is reported done: the worker
   * neither restarts nor loses the job (its frontend would hold its room for it).
   */
  @Test
  void aBugInReadingOneRequestFailsItAndTheJobGoesOn() {
    NodeWorkers node = new NodeWorkers(1);
    ActorRef<Worker.Command> worker = ready(node);
    Job two =
        new Job(
            List.of(
                new Job.Segment(
                    "r1",
                    aggregator.getRef(),
                    0,
                    List.of("a", "b"),
                    null,
                    0,
                    0,
                    CallOptions.DEFAULTS,
                    false),
                new Job.Segment(
                    "r2",
                    aggregator.getRef(),
                    0,
                    List.of("the dog"),
                    null,
                    0,
                    0,
                    CallOptions.DEFAULTS,
                    false)));
    encoder.faults().failNextPreparations(1);
    worker.tell(assignment(12, frontend, leaving(two)));
    Aggregator.JobResult failed =
        aggregator.expectMessageClass(Aggregator.JobResult.class, Duration.ofSeconds(30));
    assertEquals("r1", failed.requestId());
    assertEquals(500, failed.status());
    assertTrue(
        failed.error().contains("could not read texts 0-1 of the request")
            && failed.error().contains("fail-next-preparations"),
        failed.error());
    Aggregator.JobResult served =
        aggregator.expectMessageClass(Aggregator.JobResult.class, Duration.ofSeconds(30));
    assertEquals("r2", served.requestId());
    assertEquals(1, served.rows().size());
    assertEquals(12, frontend.expectMessageClass(Frontend.JobDone.class).jobId());
    assertTrue(node.allReady(), "not restarted");
    serves(worker, frontend, aggregator, 13, "the dog", "a cat");
    KIT.stop(worker);
  }

  /** The next message of {@code type} {@code probe} gets (others before it are skipped). */
  static <T extends Frontend.Command> T next(TestProbe<Frontend.Command> probe, Class<T> type) {
    List<Frontend.Command> seen =
        probe.fishForMessage(
            Duration.ofSeconds(30),
            "a " + type.getSimpleName(),
            m ->
                type.isInstance(m)
                    ? akka.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                    : akka.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
    return type.cast(seen.get(seen.size() - 1));
  }

  /**
   * Asked to describe itself, a worker says at once which of the asking frontend's jobs it holds:
   * the one it runs, not the ones it has reported, nor another frontend's.
   */
  @Test
  void aWorkerSaysWhichJobsOfTheAskingFrontendItHolds() {
    NodeWorkers node = new NodeWorkers(1);
    ActorRef<Worker.Command> worker = ready(node);
    encoder.faults().delay(1500); // the next run takes its time
    worker.tell(assignment(21, frontend, leaving(job(aggregator.getRef(), "the dog"))));
    worker.tell(new Worker.Describe(frontend.getRef(), 22));
    Frontend.JobsHeld held = next(frontend, Frontend.JobsHeld.class);
    assertEquals(List.of(21L), held.held());
    assertEquals(22, held.upTo());
    TestProbe<Frontend.Command> other = KIT.createTestProbe();
    worker.tell(new Worker.Describe(other.getRef(), 5));
    assertEquals(
        List.of(), next(other, Frontend.JobsHeld.class).held(), "only the asking frontend's jobs");
    encoder.faults().reset();
    aggregator.expectMessageClass(Aggregator.JobResult.class, Duration.ofSeconds(30));
    assertEquals(21, next(frontend, Frontend.JobDone.class).jobId());
    worker.tell(new Worker.Describe(frontend.getRef(), 22));
    assertEquals(List.of(), next(frontend, Frontend.JobsHeld.class).held());
    KIT.stop(worker);
  }

  @Test
  void aJobThatArrivesExpiredIsReportedNotSkipped() {
    NodeWorkers node = new NodeWorkers(1);
    ActorRef<Worker.Command> worker = ready(node);
    Job late = job(aggregator.getRef(), "too late").arrived(System.nanoTime() - 1_000_000);
    worker.tell(assignment(9, frontend, late.leaving(System.nanoTime())));
    Aggregator.JobResult result =
        aggregator.expectMessageClass(Aggregator.JobResult.class, Duration.ofSeconds(10));
    assertEquals(504, result.status());
    assertTrue(result.error().contains("timed out before worker"), result.error());
    assertEquals(9, frontend.expectMessageClass(Frontend.JobDone.class).jobId());
    KIT.stop(worker);
  }
}

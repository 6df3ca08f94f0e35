package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.FishingOutcomes;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.Receptionist;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.EncodeRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The frontend and its aggregators as real actors, each worker played by a test probe registered
 * with the Receptionist as a real worker is (jobs of at most 2 rows, at most 1 job a worker):
 * dispatch to workers with room, small requests first, and the jobs of a worker that leaves, fails
 * or gives them back dispatched to another, every request answered in order. A fresh ActorSystem
 * each test, so that no worker of another test is listed.
 */
class FrontendDispatchTest {
  static final Duration WAIT = Duration.ofSeconds(10);

  ActorTestKit kit;
  ActorRef<Frontend.Command> frontend;
  Metrics metrics;
  TestProbe<EncodeOutcome> client;

  @BeforeEach
  void start() {
    start("");
  }

  /** A fresh system with {@code extra} settings (HOCON) above the test's own. */
  void start(String extra) {
    kit =
        LocalKit.create(
            "akka.actor.serialize-messages = on\n"
                + "bert-serving.workers.max-batch-size = 2\n"
                + "bert-serving.workers.prefetch-size = 1\n"
                + extra);
    ServingSettings settings = ServingSettings.create(kit.system().settings().config());
    metrics = new Metrics();
    frontend = kit.spawn(Frontend.create(settings, metrics));
    client = kit.createTestProbe();
  }

  @AfterEach
  void stop() {
    kit.shutdownTestKit();
  }

  /** A worker played by a test probe; its rows are {@code [row in the request, mark]}. */
  final class ProbeWorker {
    final TestProbe<Worker.Command> probe = kit.createTestProbe();
    final String name;
    final float mark;
    final String model;

    ProbeWorker(String name, float mark) {
      this(name, mark, "m");
    }

    /** A worker of {@code model}, as it names itself when asked. */
    ProbeWorker(String name, float mark, String model) {
      this.name = name;
      this.mark = mark;
      this.model = model;
      kit.system().receptionist().tell(Receptionist.register(Worker.SERVICE_KEY, probe.getRef()));
    }

    /** Answers the frontend's first question, who it is, as a warmed worker does. */
    void describes() {
      describes(16, "embedding");
    }

    /** Answers who it is: a worker of a model with this {@code max_seq_len} and kind. */
    void describes(int maxSeqLen, String kind) {
      Worker.Describe describe = probe.expectMessageClass(Worker.Describe.class, WAIT);
      describe
          .frontend()
          .tell(
              new Frontend.WorkerDescription(
                  probe.getRef(),
                  name,
                  1e6,
                  "CPU",
                  "test",
                  "",
                  "",
                  -1,
                  -1,
                  0,
                  0,
                  model,
                  maxSeqLen,
                  kind,
                  "REDUCE_MEAN",
                  List.of(),
                  32,
                  false,
                  "float32"));
    }

    /** The next job it is given (descriptions asked meanwhile are left unanswered). */
    Worker.Assignment takes() {
      List<Worker.Command> seen =
          probe.fishForMessage(
              WAIT,
              "a job for " + name,
              m ->
                  m instanceof Worker.Assignment
                      ? FishingOutcomes.complete()
                      : FishingOutcomes.continueAndIgnore());
      return (Worker.Assignment) seen.get(seen.size() - 1);
    }

    /** The next job it is given within {@code time}, or {@code null}. */
    Worker.Assignment takenWithin(Duration time) {
      long end = System.nanoTime() + time.toNanos();
      while (end - System.nanoTime() > 0) {
        try {
          if (probe.receiveMessage(Duration.ofNanos(end - System.nanoTime()))
              instanceof Worker.Assignment job) {
            return job;
          }
        } catch (AssertionError nothing) {
          return null;
        }
      }
      return null;
    }

    /** Is given no job for {@code time}. */
    void takesNothingFor(Duration time) {
      long end = System.nanoTime() + time.toNanos();
      while (end - System.nanoTime() > 0) {
        Worker.Command m;
        try {
          m = probe.receiveMessage(Duration.ofNanos(end - System.nanoTime()));
        } catch (AssertionError nothing) {
          return;
        }
        assertFalse(m instanceof Worker.Assignment, name + " was given a job: " + m);
      }
    }

    /**
     * Computes the job: each segment's rows to its aggregator, then the job done to the frontend.
     */
    void computes(Worker.Assignment job) {
      for (Job.Segment s : job.job().segments()) {
        s.aggregator().tell(AggregatorTest.rows(s.requestId(), s.offset(), s.size(), mark));
      }
      job.frontend()
          .tell(
              new Frontend.JobDone(
                  job.jobId(), probe.getRef(), name, job.job().rows(), 10, 1, 1_000_000));
    }

    void fails(Worker.Assignment job, String cause) {
      job.frontend().tell(new Frontend.JobFailed(job.jobId(), probe.getRef(), name, cause));
    }
  }

  static EncodeRequest request(int texts) {
    List<String> list = new ArrayList<>();
    for (int i = 0; i < texts; i++) {
      list.add("text " + i);
    }
    return EncodeRequest.of(null, list, false, false);
  }

  void encode(int texts) {
    frontend.tell(new Frontend.Encode(request(texts), client.getRef()));
  }

  /** The reply: every row in its place, each computed by the worker with {@code marks[row]}. */
  EncodeReply answered(float... marks) {
    EncodeReply reply = client.expectMessageClass(EncodeReply.class, WAIT);
    assertEquals(marks.length, reply.rows().size(), "no row missing, none extra");
    for (int i = 0; i < marks.length; i++) {
      assertEquals(i, reply.rows().get(i)[0], "row " + i + " in its place");
      assertEquals(marks[i], reply.rows().get(i)[1], "row " + i + " by the worker expected");
    }
    return reply;
  }

  /** Workers of {@link #aHoldsTwoRowsThenBJoins}. */
  ProbeWorker a;

  ProbeWorker b;

  /** Worker a holds the one job of a request of two texts; then worker b joins, with room. */
  Worker.Assignment aHoldsTwoRowsThenBJoins() {
    a = new ProbeWorker("a", 1);
    a.describes();
    encode(2);
    Worker.Assignment held = a.takes();
    b = new ProbeWorker("b", 2);
    b.describes();
    return held;
  }

  /** The rows of one job: {@code [offset, size]} of each of its segments. */
  static List<List<Integer>> rowsOf(Worker.Assignment job) {
    return job.job().segments().stream().map(s -> List.of(s.offset(), s.size())).toList();
  }

  @Test
  void jobsGoToWorkersWithRoomAndRowsComeBackInOrder() {
    ProbeWorker a = new ProbeWorker("a", 1);
    ProbeWorker b = new ProbeWorker("b", 2);
    a.describes();
    b.describes();
    encode(5);
    Worker.Assignment first = a.takes();
    Worker.Assignment second = b.takes();
    assertEquals(2, first.job().rows(), "jobs of max_batch_size rows");
    assertEquals(2, second.job().rows());
    a.takesNothingFor(Duration.ofMillis(300)); // prefetch_size 1: one job a worker at most
    b.takesNothingFor(Duration.ofMillis(10));

    a.computes(first);
    Worker.Assignment third = a.takes(); // a has room again, b has none
    assertEquals(List.of(List.of(4, 1)), rowsOf(third), "the last row");
    b.takesNothingFor(Duration.ofMillis(200));
    b.computes(second);
    client.expectNoMessage(Duration.ofMillis(100)); // a row is still missing
    a.computes(third);
    float[] marks = new float[5];
    for (Worker.Assignment job : List.of(first, second, third)) {
      for (Job.Segment s : job.job().segments()) {
        for (int i = 0; i < s.size(); i++) {
          marks[s.offset() + i] = job == second ? 2 : 1;
        }
      }
    }
    answered(marks);
  }

  @Test
  void aSmallRequestGoesFirstAndSharesAJobWithALargeOne() {
    ProbeWorker a = new ProbeWorker("a", 1);
    a.describes();
    encode(20); // at least priority_batch_size (16) rows: the normal queue
    Worker.Assignment first = a.takes();
    EncodeRequest small = request(1);
    TestProbe<EncodeOutcome> smallClient = kit.createTestProbe();
    frontend.tell(new Frontend.Encode(small, smallClient.getRef()));
    a.takesNothingFor(Duration.ofMillis(200));
    a.computes(first);

    Worker.Assignment shared = a.takes();
    assertEquals(
        List.of(List.of(0, 1), List.of(2, 1)), rowsOf(shared), "the small request's row first");
    assertNotEquals(
        shared.job().segments().get(0).requestId(), shared.job().segments().get(1).requestId());
    a.computes(shared);
    assertEquals(1, smallClient.expectMessageClass(EncodeReply.class, WAIT).rows().size());
    for (int done = 3; done < 20; done += 2) {
      a.computes(a.takes());
    }
    float[] marks = new float[20];
    java.util.Arrays.fill(marks, 1);
    answered(marks);
  }

  @Test
  void theJobsOfAWorkerThatLeavesGoToAnother() {
    Worker.Assignment held = aHoldsTwoRowsThenBJoins();
    b.takesNothingFor(Duration.ofMillis(200));

    a.probe.stop(); // the Receptionist no longer lists it
    Worker.Assignment again = b.takes();
    assertEquals(rowsOf(held), rowsOf(again), "the same rows");
    b.computes(again);
    answered(2, 2);
  }

  @Test
  void aJobGivenBackUntriedGoesToAnotherWorker() {
    Worker.Assignment held = aHoldsTwoRowsThenBJoins();

    frontend.tell(new Frontend.JobReturned(held.jobId(), a.probe.getRef())); // a is restarting
    Worker.Assignment again = b.takes();
    assertEquals(rowsOf(held), rowsOf(again));
    assertEquals(0, again.job().segments().get(0).failures(), "not tried: no failure counted");
    a.takesNothingFor(Duration.ofMillis(200)); // recovering: nothing until it describes itself
    b.computes(again);
    answered(2, 2);
  }

  @Test
  void rowsAWorkerFailedOnGoToAnotherAndFailTheirRequestOnTheSecondFailure() {
    Worker.Assignment held = aHoldsTwoRowsThenBJoins();

    a.fails(held, "out of memory");
    Worker.Assignment retry = b.takes();
    assertEquals(rowsOf(held), rowsOf(retry));
    assertEquals(1, retry.job().segments().get(0).failures());
    b.fails(retry, "a poisonous text");

    EncodeFailure failure = client.expectMessageClass(EncodeFailure.class, WAIT);
    assertEquals(500, failure.status());
    assertTrue(
        failure.description().contains("on worker b: a poisonous text"), failure.description());
    a.takesNothingFor(Duration.ofMillis(200));
    b.takesNothingFor(Duration.ofMillis(10));
    client.expectNoMessage(Duration.ofMillis(10));
  }

  @Test
  void rowsAWorkerFailedOnOnceComeBackFromAnother() {
    Worker.Assignment held = aHoldsTwoRowsThenBJoins();

    a.fails(held, "out of memory");
    b.computes(b.takes());
    answered(2, 2);
  }

  /**
   * Every message the frontend was sent before this has been handled: it answers at once a request
   * for a model it does not serve.
   */
  void frontendCaughtUp() {
    TestProbe<EncodeOutcome> asker = kit.createTestProbe();
    frontend.tell(new Frontend.Encode(request(1).withModel("not-served"), asker.getRef()));
    assertEquals(404, asker.expectMessageClass(EncodeFailure.class, WAIT).status());
  }

  /**
   * A job lost between nodes (or whose report was) holds its worker's room only until the worker
   * says it does not hold it, in its answer to the frontend's next Describe (every {@link
   * Frontend#DESCRIBE_EVERY}); its rows then go again, as their request still waits. A worker that
   * still holds its job (a hung run) keeps it and gets no other; so does a job given after the
   * question that was answered.
   */
  @Test
  void aJobLostBetweenNodesHoldsItsRoomUntilTheWorkerSaysItDoesNotHoldIt() {
    ProbeWorker a = new ProbeWorker("a", 1);
    a.describes();
    encode(1);
    Worker.Assignment lost = a.takes(); // the job, or its report, will be lost
    encode(1); // waits: a has no room

    // a hung worker still holds its job: it keeps its room, and gets nothing more
    frontend.tell(new Frontend.JobsHeld(a.probe.getRef(), lost.jobId() + 1, List.of(lost.jobId())));
    // an answer to a question asked before the job was given says nothing of it
    frontend.tell(new Frontend.JobsHeld(a.probe.getRef(), lost.jobId(), List.of()));
    frontendCaughtUp();
    a.takesNothingFor(Duration.ofMillis(300));
    assertEquals(0, metrics.unreportedJobs.sum());

    // the frontend's next Describe: a answers, at once, that it holds nothing
    List<Worker.Command> seen =
        a.probe.fishForMessage(
            Duration.ofSeconds(20),
            "the frontend's next Describe",
            m ->
                m instanceof Worker.Describe
                    ? FishingOutcomes.complete()
                    : FishingOutcomes.continueAndIgnore());
    Worker.Describe asked = (Worker.Describe) seen.get(seen.size() - 1);
    assertTrue(asked.upTo() > lost.jobId(), "the lost job was given before the question");
    frontend.tell(new Frontend.JobsHeld(a.probe.getRef(), asked.upTo(), List.of()));
    Worker.Assignment next = a.takes();
    assertNotEquals(lost.jobId(), next.jobId());
    assertTrue(
        next.job().segments().stream()
            .anyMatch(s -> s.requestId().equals(lost.job().segments().get(0).requestId())),
        "the lost job's rows go again: " + rowsOf(next));
    assertEquals(1, metrics.unreportedJobs.sum());
    a.computes(next);
    while (next.job().rows() < 2) { // the waiting request's row, if it did not ride along
      next = a.takes();
      a.computes(next);
    }
    client.expectMessageClass(EncodeReply.class, WAIT);
    client.expectMessageClass(EncodeReply.class, WAIT);
    // the lost job's report, late after all: nothing more, nothing counted twice
    a.computes(lost);
    client.expectNoMessage(Duration.ofMillis(200));
    assertEquals(1, metrics.unreportedJobs.sum());
  }
}

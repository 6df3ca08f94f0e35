package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.fasterxml.jackson.databind.node.IntNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * One request's aggregator, a real actor, its workers and frontend played by test probes: rows from
 * several results, in any order and some twice, come back in request order; a request is answered
 * once, whatever arrives after; a request whose rows do not all come fails on its timeout.
 */
class AggregatorTest {
  static final ActorTestKit KIT = LocalKit.create("akka.actor.serialize-messages = on");

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  final TestProbe<EncodeOutcome> client = KIT.createTestProbe();
  final TestProbe<Frontend.Command> frontend = KIT.createTestProbe();

  ActorRef<Aggregator.Command> aggregator(int size, Duration timeout) {
    return KIT.spawn(
        Aggregator.create(
            "r",
            IntNode.valueOf(7),
            size,
            false,
            false,
            timeout,
            client.getRef(),
            frontend.getRef(),
            "m"));
  }

  static Aggregator.JobResult rows(int offset, int n, float mark) {
    return rows("r", offset, n, mark);
  }

  /**
   * Rows {@code [offset, offset + n)} of a request as a worker sends them: row i is {@code [i,
   * mark]}, read as {@code 3 + i} tokens.
   */
  static Aggregator.JobResult rows(String requestId, int offset, int n, float mark) {
    List<float[]> rows = new ArrayList<>();
    int[] tokenCounts = new int[n];
    for (int i = 0; i < n; i++) {
      rows.add(new float[] {offset + i, mark});
      tokenCounts[i] = 3 + offset + i;
    }
    return new Aggregator.JobResult(
        requestId, offset, 2, 0, rows, null, tokenCounts, 0, null, null);
  }

  @Test
  void rowsOfSeveralResultsComeBackInRequestOrderEachOnce() {
    ActorRef<Aggregator.Command> aggregator = aggregator(6, Duration.ofSeconds(30));
    aggregator.tell(rows(4, 2, 1)); // the last job's result first
    aggregator.tell(rows(0, 2, 1));
    aggregator.tell(rows(0, 2, 2)); // sent again after a worker left: the first copy counts
    client.expectNoMessage(Duration.ofMillis(100));
    aggregator.tell(rows(2, 2, 1));

    EncodeReply reply = client.expectMessageClass(EncodeReply.class);
    assertEquals(7, reply.id().asInt(), "the client's own id");
    assertEquals(6, reply.rows().size());
    for (int i = 0; i < 6; i++) {
      assertEquals(i, reply.rows().get(i)[0], "row " + i + " in its place");
      assertEquals(1, reply.rows().get(i)[1], "row " + i + " is the first copy");
      assertEquals(3 + i, reply.tokenCounts()[i]);
    }
    Frontend.RequestFinished finished = frontend.expectMessageClass(Frontend.RequestFinished.class);
    assertEquals("r", finished.requestId());
    assertEquals(6, finished.rows());
    assertEquals(6, ((EncodeReply) finished.outcome()).rows().size(), "the same reply");
    KIT.createTestProbe().expectTerminated(aggregator);
  }

  @Test
  void aFailedResultAnswersTheRequestOnceWhateverComesAfter() {
    ActorRef<Aggregator.Command> aggregator = aggregator(4, Duration.ofSeconds(30));
    aggregator.tell(rows(0, 2, 1));
    aggregator.tell(
        Aggregator.JobResult.failed(
            "r", 2, 500, "engine_error", "encoding failed on 2 attempts: poison"));
    aggregator.tell(rows(2, 2, 1)); // a late copy of the rows that failed
    aggregator.tell(Aggregator.JobResult.failed("r", 2, 504, "timeout", "too late"));

    EncodeFailure failure = client.expectMessageClass(EncodeFailure.class);
    assertEquals(500, failure.status());
    assertEquals("engine_error", failure.type());
    assertTrue(failure.description().contains("poison"), failure.description());
    assertEquals(
        500,
        ((EncodeFailure) frontend.expectMessageClass(Frontend.RequestFinished.class).outcome())
            .status());
    client.expectNoMessage(Duration.ofMillis(300));
    frontend.expectNoMessage(Duration.ofMillis(10));
  }

  @Test
  void rowsThatNeverComeFailTheRequestOnItsTimeoutNamingWhatCame() {
    ActorRef<Aggregator.Command> aggregator = aggregator(3, Duration.ofMillis(300));
    aggregator.tell(rows(1, 1, 1));
    EncodeFailure failure = client.expectMessageClass(EncodeFailure.class, Duration.ofSeconds(10));
    assertEquals(504, failure.status());
    assertTrue(failure.description().contains("1 of 3 rows encoded"), failure.description());
    frontend.expectMessageClass(Frontend.RequestFinished.class);
    aggregator.tell(rows(0, 1, 1));
    client.expectNoMessage(Duration.ofMillis(200));
  }
}

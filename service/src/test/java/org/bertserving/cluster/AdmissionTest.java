package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The admission decision alone, and shared by several frontends: a 10 s timeout leaves 8 s of work
 * (the margin) at one worker of 1,000 tokens/s, a budget of 8,000 tokens, requests of 1,000.
 */
class AdmissionTest {
  static final Object WORKER = "worker";

  static Admission frontend() {
    Admission a = new Admission(Duration.ofSeconds(10), 512);
    a.workerJoined(WORKER, 1000);
    return a;
  }

  /** Offers {@code requests} requests of 1,000 tokens; how many it admitted. */
  static int offer(Admission a, int requests, String prefix) {
    int admitted = 0;
    for (int i = 0; i < requests; i++) {
      if (a.decide(1000).status() == 0) {
        a.admitted(prefix + i, 1000, 10);
        admitted++;
      }
    }
    return admitted;
  }

  @Test
  void shortQueriesDoNotDragTheSpeedDownUntilABatchTheWorkerCanDoIsRefused() {
    Admission a = new Admission(Duration.ofSeconds(10), 512);
    a.workerJoined(WORKER, 8000);
    for (int i = 0; i < 60; i++) {
      a.observed(WORKER, 3, 5_000_000); // a 3-token query in 5 ms: the run's fixed cost
    }
    assertTrue(a.capacity() > 7000, "measured " + a.capacity() + " tokens/s");
    assertEquals(0, a.decide(60_000).status(), "7.5-8 s of work fits the 10 s timeout");
    for (int i = 0; i < 20; i++) {
      a.observed(WORKER, 2048, 1_000_000_000); // full jobs at a quarter of the speed
    }
    assertEquals(2048, a.capacity(), 10, "full jobs are learned as before");
    assertEquals(413, a.decide(60_000).status());
  }

  @Test
  void aFrontendAloneAdmitsItsBudgetAndRefusesTheRestWith429() {
    Admission alone = frontend();
    assertEquals(8000, alone.budgetTokens(), 1e-9);
    assertEquals(8, offer(alone, 20, "r"));
    Admission.Decision refused = alone.decide(1000);
    assertEquals(429, refused.status());
    assertEquals(1, refused.retryAfterSeconds(), "9 s of work against 8: one more second");
    assertEquals(1, alone.frontends());
  }

  @Test
  void twoFrontendsHitByOneBurstBeforeAnyNewsAdmitWhatOneAloneWould() {
    Admission a = frontend();
    Admission b = frontend();
    // each has heard the other's heartbeat (idle) and nothing since
    a.others(0, 1);
    b.others(0, 1);
    int admitted = offer(a, 20, "a") + offer(b, 20, "b");
    assertEquals(8, admitted, "half of the free budget each, not the whole budget each");
    assertEquals(4000, a.backlogTokens(), 1e-9);
    Admission.Decision share = a.decide(1000);
    assertEquals(429, share.status());
    assertEquals(1, share.retryAfterSeconds());
    assertTrue(share.reason().contains("share"), share.reason());
    // once they hear of each other the cluster is full: the cluster rule refuses
    a.others(b.backlogTokens(), 1);
    Admission.Decision full = a.decide(1000);
    assertEquals(429, full.status());
    assertTrue(full.reason().contains("2 frontends"), full.reason());
    assertEquals(8.0, a.clusterBacklogSeconds(), 1e-9);
    assertEquals(4.0, a.backlogSeconds(), 1e-9);
  }

  @Test
  void anotherFrontendsBacklogCountsAndAForgottenOneNoLonger() {
    Admission a = frontend();
    a.others(7500, 1);
    assertEquals(2, a.frontends());
    Admission.Decision refused = a.decide(1000);
    assertEquals(429, refused.status(), "7.5 s queued elsewhere + 1 s > 8 s");
    assertEquals(1, refused.retryAfterSeconds());
    assertEquals(0, a.backlogTokens(), 1e-9, "nothing of its own");
    // the other frontend stopped publishing and was forgotten: the whole budget is this one's
    a.others(0, 0);
    assertEquals(1, a.frontends());
    assertEquals(8, offer(a, 20, "r"));
  }

  @Test
  void newsRenewsTheShareAndAFrontendWithoutWorkTakesOneRequestWhateverItsShare() {
    Admission a = frontend();
    a.others(6000, 1);
    assertEquals(1, offer(a, 5, "x"), "holding nothing, it takes one although its share is 1000");
    a.others(6000, 1);
    Admission.Decision overShare = a.decide(1000);
    assertEquals(429, overShare.status(), "share (8000 - 1000 - 6000) / 2 = 500 < 1000");
    assertTrue(overShare.reason().contains("share"), overShare.reason());
    a.others(4000, 1);
    assertEquals(1, offer(a, 5, "y"), "share (8000 - 1000 - 4000) / 2 = 1500: one of 1000");
    // its first request computed, and news: room for one more
    a.progressed("x0", 10);
    a.finished("x0");
    a.others(4000, 1);
    assertEquals(0, a.decide(1000).status(), "share (8000 - 1000 - 4000) / 2 = 1500");
    a.others(6000, 1);
    assertEquals(429, a.decide(1000).status(), "share (8000 - 1000 - 6000) / 2 = 500");
  }

  @Test
  void withoutMeasuredWorkersEverythingIsAdmittedAndNothingSharedIsDividedByZero() {
    Admission a = new Admission(Duration.ofSeconds(10), 512);
    a.others(1e9, 3);
    assertEquals(0, a.decide(1000).status());
    assertEquals(0, a.clusterBacklogSeconds(), 1e-9);
    assertEquals(0, a.budgetTokens(), 1e-9);
  }
}

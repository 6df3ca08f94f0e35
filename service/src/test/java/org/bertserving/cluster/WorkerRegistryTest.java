package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The frontend's dispatch decisions without actors: workers are plain names here. */
class WorkerRegistryTest {

  static Job job(String id) {
    return new Job(List.of(RowQueueTest.request(id, 1)));
  }

  static WorkerRegistry<String> registry(int prefetch, String... workers) {
    WorkerRegistry<String> registry = new WorkerRegistry<>(prefetch);
    List<WorkerRegistry.Gone<String>> left = new ArrayList<>();
    assertEquals(List.of(workers), registry.listed(new LinkedHashSet<>(List.of(workers)), left));
    assertTrue(left.isEmpty());
    return registry;
  }

  @Test
  void theLeastLoadedWorkerWithRoomTakesTheNextJobAndNoneTakesMoreThanPrefetch() {
    WorkerRegistry<String> r = registry(2, "a", "b");
    List<String> order = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      String w = r.pick();
      order.add(w);
      r.assign(w, job("j" + i));
    }
    assertEquals(List.of("a", "b", "a", "b"), order, "spread, least loaded first");
    assertNull(r.pick(), "every worker holds prefetch_size jobs: nobody takes a fifth");
    Job extra = job("x");
    long id = r.assign("a", extra);
    assertNull(r.ended("b", id), "a job ends only for the worker that holds it");
    assertSame(extra, r.ended("a", id));
    assertNull(r.ended("a", id), "and only once");
  }

  @Test
  void aRecoveringWorkerTakesNoJobUntilItIsBack() {
    WorkerRegistry<String> r = registry(2, "a", "b");
    assertTrue(r.recovering("a"));
    assertFalse(r.recovering("a"), "already recovering");
    assertFalse(r.recovering("stranger"), "not registered");
    assertEquals("b", r.pick());
    assertTrue(r.recovering("b"));
    assertTrue(r.allRecovering());
    assertNull(r.pick());
    assertTrue(r.back("a"));
    assertEquals("a", r.pick());
  }

  @Test
  void aWorkerThatIsNoLongerListedLeavesWithItsUnfinishedJobs() {
    WorkerRegistry<String> r = registry(3, "a", "b");
    Job first = job("1");
    Job second = job("2");
    long done = r.assign("a", first);
    r.assign("a", second);
    assertSame(first, r.ended("a", done));
    List<WorkerRegistry.Gone<String>> left = new ArrayList<>();
    List<String> joined = r.listed(Set.of("b", "c"), left);
    assertEquals(List.of("c"), joined);
    assertEquals(1, left.size());
    assertEquals("a", left.get(0).worker());
    assertEquals(List.of(second), left.get(0).jobs(), "only what it had not finished goes again");
    assertEquals(Set.of("b", "c"), r.workers());
  }
}

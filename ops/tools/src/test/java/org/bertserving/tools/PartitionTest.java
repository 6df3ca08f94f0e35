package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bertserving.engine.TinyBert;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Real network partitions: a frontend and two worker JVMs (the tiny model), each in a network
 * namespace of its own on one bridge, under steady load through the SDK. A worker cut off for 25 s
 * costs nothing (no error, nothing lost); with both workers cut off the frontend refuses at once
 * (503 with Retry-After, which the SDK retries) instead of holding requests to their timeout; with
 * the frontend cut off the workers down themselves and join again in-process. Nothing is ever lost
 * or wrong, and the cluster is at full capacity within 30 s of the links' return. Needs root and
 * iproute2; elsewhere the test is skipped, saying why.
 */
class PartitionTest {

  @Test
  void partitionsLoseNothingAndHealByThemselves() throws Exception {
    Assumptions.assumeTrue(
        Netns.available(),
        () -> "no network partitions on this machine: " + Netns.unavailableReason());
    PartitionRun.Options options =
        new PartitionRun.Options(
            TestNodes.tinyModel(),
            16,
            2,
            4,
            NodeProcess.ownClasspath(),
            List.of("-Xmx384m", "-XX:+UseSerialGC"),
            TinyBert.texts(150),
            Path.of("target", "partition"),
            System.out);
    List<PartitionReport.Row> rows = new ArrayList<>();
    PartitionRun run = new PartitionRun(options);
    try {
      run.start();
      for (PartitionRun.Fault fault : PartitionRun.Fault.values()) {
        rows.add(run.run(fault));
      }
      run.finish();
    } finally {
      run.close();
      System.out.println(PartitionReport.table(rows));
    }
    assertEquals(List.of(), Netns.leftovers(), "every namespace and link removed");
    for (PartitionReport.Row row : rows) {
      assertEquals(
          List.of(), row.problems(), row.fault().description + ": " + row + "\n" + run.outputs());
    }
    // the links were really cut: a worker alone without its frontend downs itself
    PartitionReport.Row workerCut = rows.get(PartitionRun.Fault.ONE_WORKER.ordinal());
    assertTrue(
        workerCut.rejoins() >= 1,
        "the worker cut off downed itself and joined again in-process: " + workerCut);
    PartitionReport.Row frontendCut = rows.get(PartitionRun.Fault.FRONTEND.ordinal());
    assertTrue(
        frontendCut.rejoins() >= 2,
        "the workers that lost their only frontend downed themselves and joined again"
            + " in-process: "
            + frontendCut);
  }
}

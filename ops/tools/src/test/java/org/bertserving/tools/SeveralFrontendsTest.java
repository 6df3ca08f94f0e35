package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Three frontend node JVMs and a worker under load through the SDK, which spreads over them: one
 * frontend killed with kill -9 loses nothing (the SDK sends its requests in flight again to
 * another), and once restarted it serves again. Three, not two: the split-brain resolver keeps the
 * majority of frontends, and one of two is no majority (README, "Several frontends").
 */
class SeveralFrontendsTest {

  @Test
  void aFrontendKilledUnderLoadLosesNothing() throws Exception {
    ChaosRun.Options options = FaultSuiteTest.options(1, 3, "chaos-several-frontends");
    ChaosRun run = new ChaosRun(options);
    ChaosRun.Row row;
    try {
      run.start();
      row = run.run(ChaosRun.Fault.KILL_SECOND_FRONTEND);
      run.finish();
    } finally {
      run.close();
    }
    System.out.println(ChaosRun.table(List.of(row)));
    String what = row + "\n" + run.outputs();
    assertTrue(row.requests() > 0, "load ran through the fault: " + what);
    assertEquals(0, row.lost(), "lost: " + what);
    assertEquals(0, row.wrong(), "wrong: " + what);
    assertEquals(0, row.errors(), "errors: " + what);
    assertTrue(row.healSeconds() >= 0 && row.healSeconds() <= 30, "healed within 30 s: " + what);
  }
}

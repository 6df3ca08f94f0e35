package org.bertserving.tools;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The JIT compiler threads' CPU is found by their names, and is part of the process's. */
class ProcCpuTest {

  @Test
  void theCompilerThreadsOfThisJvmHaveUsedSomeOfItsCpu() {
    long pid = ProcessHandle.current().pid();
    long compiler = ProcCpu.compilerNanos(pid);
    long all = ProcCpu.nanos(pid);
    // JUnit, Jackson and this test's classes were compiled by C1 at least, for more than a tick
    assertTrue(compiler > 0, "C1/C2 threads' CPU: " + compiler);
    assertTrue(compiler <= all, compiler + " of " + all);
    assertTrue(ProcCpu.compilerNanos(Long.MAX_VALUE) == 0, "no such process: 0");
  }
}

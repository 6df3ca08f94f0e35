package org.bertserving.tools;

import java.util.function.Function;

/**
 * What every simulated-cluster benchmark's {@code main} does around its run: options parsed (a bad
 * one exits 2 with the usage), the run, and every node it started stopped however it ends (also on
 * Ctrl-C); exits 1 naming the failure.
 */
final class BenchMain {
  interface Run<O> {
    void run(O options) throws Exception;
  }

  private BenchMain() {}

  static <O> void main(
      String tool, String[] args, Function<String[], O> parse, String usage, Run<O> run) {
    O options;
    try {
      options = parse.apply(args);
    } catch (IllegalArgumentException e) {
      System.err.println(tool + ": " + e.getMessage());
      System.err.print(usage);
      System.exit(2);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(SimulatedCluster::closeAll, "bench-reaper"));
    int code = 0;
    try {
      run.run(options);
    } catch (Exception e) {
      System.err.println(tool + ": " + e);
      code = 1;
    } finally {
      SimulatedCluster.closeAll();
    }
    System.exit(code);
  }
}

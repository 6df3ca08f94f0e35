package org.bertserving.tools;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * {@code ops/bert-serving-chaos}: a local cluster (one frontend, two worker nodes) on the default
 * model, or {@code -model_dir}, under steady load, through every fault of {@link ChaosRun.Fault};
 * prints the table of what the clients saw.
 *
 * <pre>
 * ops/bert-serving-chaos [-model_dir DIR] [-max_seq_len N] [-clients N] [-faults KILL_WORKER,...]
 * ops/bert-serving-chaos -burst    (60 concurrent requests of 200 texts on one node)
 * ops/bert-serving-chaos -partition [-model_dir DIR] [-max_seq_len N] [-clients N]
 *     (real network partitions between nodes in network namespaces: root and iproute2)</pre>
 */
public final class Chaos {
  private static final String[] WORDS =
      ("the a one my your our this that new old good bad big small "
              + "quick slow red blue green dog cat bird fish car train plane house city river mountain "
              + "book song movie idea plan team company market price user server model vector query "
              + "runs jumps sees likes finds builds reads writes sends keeps needs makes takes gives "
              + "today tomorrow again always never often quickly slowly well here there")
          .split(" ");

  private Chaos() {}

  public static void main(String[] args) throws Exception {
    Path modelDir = null;
    int maxSeqLen = 25;
    int clients = 2;
    int frontends = 1;
    List<ChaosRun.Fault> faults = null;
    boolean burst = false;
    boolean partition = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "-burst" -> burst = true;
        case "-partition" -> partition = true;
        case "-model_dir" -> modelDir = Path.of(args[++i]);
        case "-max_seq_len" -> maxSeqLen = Integer.parseInt(args[++i]);
        case "-clients" -> clients = Integer.parseInt(args[++i]);
        case "-frontends" -> frontends = Integer.parseInt(args[++i]);
        case "-faults" ->
            faults = Arrays.stream(args[++i].split(",")).map(ChaosRun.Fault::valueOf).toList();
        default -> {
          System.err.println(
              "usage: ops/bert-serving-chaos [-model_dir DIR] [-max_seq_len N] "
                  + "[-clients N] [-frontends N] [-faults "
                  + Arrays.toString(ChaosRun.Fault.values())
                  + "] | -burst | -partition [-model_dir DIR] [-max_seq_len N] [-clients N]");
          System.exit(2);
        }
      }
    }
    if (burst) {
      Burst.run(modelDir, 60, 200, Path.of("ops", "run", "chaos"));
      return;
    }
    if (partition) {
      partitions(modelDir, maxSeqLen, clients);
      return;
    }
    if (faults == null) { // every fault this cluster can have
      int f = frontends;
      faults =
          Arrays.stream(ChaosRun.Fault.values())
              .filter(x -> f > 1 || x != ChaosRun.Fault.KILL_SECOND_FRONTEND)
              .toList();
    }
    ChaosRun.Options options =
        new ChaosRun.Options(
            modelDir,
            maxSeqLen,
            2,
            frontends,
            clients,
            4,
            Duration.ofSeconds(20),
            Duration.ofSeconds(3),
            NodeProcess.ownClasspath(),
            List.of("-Xmx2g"),
            corpus(200, new Random(7)),
            Path.of("ops", "run", "chaos"),
            System.err);
    try (ChaosRun run = new ChaosRun(options)) {
      run.start();
      List<ChaosRun.Row> rows = run.runAll(faults);
      run.finish();
      System.out.println(ChaosRun.table(rows));
      System.out.println("node logs: " + options.logDir().toAbsolutePath());
    }
  }

  /** Every fault of {@link PartitionRun}: prints the table, exits 1 when one is not acceptable. */
  private static void partitions(Path modelDir, int maxSeqLen, int clients) throws Exception {
    if (!Netns.available()) {
      System.err.println("bert-serving-chaos -partition: " + Netns.unavailableReason());
      System.exit(2);
    }
    PartitionRun.Options options =
        new PartitionRun.Options(
            modelDir,
            maxSeqLen,
            clients,
            4,
            NodeProcess.ownClasspath(),
            List.of("-Xmx2g"),
            corpus(200, new Random(7)),
            Path.of("ops", "run", "chaos"),
            System.err);
    List<PartitionReport.Row> rows = new ArrayList<>();
    try (PartitionRun run = new PartitionRun(options)) {
      run.start();
      for (PartitionRun.Fault fault : PartitionRun.Fault.values()) {
        rows.add(run.run(fault));
      }
      run.finish();
    }
    System.out.println(PartitionReport.table(rows));
    boolean acceptable = true;
    for (PartitionReport.Row row : rows) {
      for (String problem : row.problems()) {
        System.out.println("NOT ACCEPTABLE: " + row.fault().description + ": " + problem);
        acceptable = false;
      }
    }
    System.out.println("node logs: " + options.logDir().toAbsolutePath());
    if (!acceptable) {
      System.exit(1);
    }
  }

  /** Distinct English-like sentences of 5 to 14 words. */
  static List<String> corpus(int n, Random random) {
    List<String> texts = new ArrayList<>();
    while (texts.size() < n) {
      StringBuilder s = new StringBuilder();
      int words = 5 + random.nextInt(10);
      for (int w = 0; w < words; w++) {
        s.append(w == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
      }
      if (!texts.contains(s.toString())) {
        texts.add(s.toString());
      }
    }
    return texts;
  }
}

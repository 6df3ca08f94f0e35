package org.bertserving.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.bertserving.client.BertClient;
import org.bertserving.server.NodePorts;

/**
 * A cluster of real node JVMs on loopback (one frontend, {@code workers} worker nodes; from the
 * first restart on every node a seed, as {@code cluster-conf/} ships them) under steady load
 * through the SDK, put through one fault after another: kill -9, SIGSTOP, SIGTERM-and-restart of
 * each kind of node, an engine that throws. For each fault it counts what the clients saw (answers,
 * errors, lost and wrong rows, p99 latency) and how long the cluster took, from the node's return,
 * to be at full capacity again. The chaos tool prints this; the fault suite asserts on it.
 */
public final class ChaosRun implements AutoCloseable {

  /** The faults, in the order a full run applies them. */
  public enum Fault {
    KILL_WORKER("kill -9 of a worker node, restarted 3 s later"),
    PAUSE_WORKER("SIGSTOP of a worker node for 20 s"),
    RESTART_WORKER("SIGTERM of a worker node, restarted"),
    ENGINE_FAILURE("a worker's TensorFlow run throws"),
    KILL_FRONTEND("kill -9 of the frontend, restarted 3 s later"),
    PAUSE_FRONTEND("SIGSTOP of the frontend for 20 s"),
    RESTART_FRONTEND("SIGTERM of the frontend, restarted"),
    CLOCK_AHEAD_WORKER("a worker node restarted with its wall clock 2 h ahead (faketime)"),
    CLOCK_BEHIND_FRONTEND("the frontend restarted with its wall clock 2 h behind (faketime)"),
    KILL_SECOND_FRONTEND("kill -9 of one of several frontends, restarted 3 s later");

    public final String description;

    Fault(String description) {
      this.description = description;
    }
  }

  /** What the clients saw during one fault, and how long healing took. */
  public record Row(
      Fault fault,
      int requests,
      int ok,
      int errors,
      int lost,
      int wrong,
      long p99Millis,
      long maxMillis,
      double healSeconds,
      int exitCode,
      long rejoins,
      String notes) {}

  /**
   * How to run.
   *
   * @param modelDir the model folder, or {@code null} for the default model
   * @param frontends how many frontend nodes (the clients spread over them, as the SDK does)
   * @param classpath the service's class path for the node JVMs
   * @param jvm JVM options of every node
   * @param corpus texts the clients send
   */
  public record Options(
      Path modelDir,
      int maxSeqLen,
      int workers,
      int frontends,
      int clients,
      int maxTexts,
      Duration pause,
      Duration downtime,
      String classpath,
      List<String> jvm,
      List<String> corpus,
      Path logDir,
      PrintStream log) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration READY = Duration.ofMinutes(3);
  private static final Duration HEALED = Duration.ofSeconds(90);

  /** Load kept on after healing, so that the requests right after it count too. */
  private static final Duration TAIL = Duration.ofSeconds(5);

  private final Options options;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  // the ports each node's first start got from the kernel; a restarted node takes them again
  private int httpPort;
  private final int[] httpPorts;
  private final int[] clusterPorts;
  private final int[] managementPorts;
  private final NodeProcess[] nodes;
  // faketime's offset of each node's wall clock ("+2h"), null for the machine's own
  private final String[] clocks;
  private LoadDriver load;

  public ChaosRun(Options options) {
    this.options = options;
    // node 0 the first frontend, 1..workers the workers, the other frontends after them
    int n = options.workers() + options.frontends();
    httpPorts = new int[n];
    clusterPorts = new int[n];
    managementPorts = new int[n];
    nodes = new NodeProcess[n];
    clocks = new String[n];
  }

  /** Starts every node, waits for full capacity, and records the healthy cluster's vectors. */
  public void start() throws Exception {
    launch(0); // forms the cluster; the workers join it
    learnPorts(0);
    for (int i = 1; i < nodes.length; i++) {
      launch(i);
    }
    for (int i = 1; i < nodes.length; i++) {
      learnPorts(i);
    }
    awaitHealthy(READY);
    Map<String, float[]> expected = new HashMap<>();
    try (BertClient baseline =
        BertClient.builder()
            .http(LoadDriver.uri(httpPort))
            .timeout(Duration.ofMinutes(2))
            .checkLength(false)
            .build()) {
      for (int from = 0; from < options.corpus().size(); from += 32) {
        List<String> batch =
            options.corpus().subList(from, Math.min(options.corpus().size(), from + 32));
        float[][] vectors = baseline.encode(batch);
        for (int i = 0; i < batch.size(); i++) {
          expected.put(batch.get(i), vectors[i]);
        }
      }
    }
    List<URI> frontends = new ArrayList<>();
    for (int i = 0; i < nodes.length; i++) {
      if (isFrontend(i)) {
        frontends.add(LoadDriver.uri(httpPorts[i]));
      }
    }
    load =
        new LoadDriver(
            frontends,
            options.corpus(),
            expected,
            options.clients(),
            options.maxTexts(),
            Duration.ofSeconds(70));
    load.start();
  }

  /** Applies every fault in turn. */
  public List<Row> runAll(List<Fault> faults) throws Exception {
    List<Row> rows = new ArrayList<>();
    for (Fault fault : faults) {
      rows.add(run(fault));
    }
    return rows;
  }

  /** Applies one fault under load and measures it. */
  public Row run(Fault fault) throws Exception {
    options.log().println("chaos: " + fault.description);
    if ((fault == Fault.CLOCK_AHEAD_WORKER || fault == Fault.CLOCK_BEHIND_FRONTEND)
        && !hasFaketime()) {
      throw new IllegalStateException(
          fault + " runs a node under faketime, which is not installed (apt-get install faketime)");
    }
    long rejoinsBefore = rejoins();
    long from = System.nanoTime();
    int worker = 1 + (fault.ordinal() % options.workers());
    int exitCode = 0;
    switch (fault) {
      case KILL_WORKER -> {
        nodes[worker].kill();
        Thread.sleep(
            options.downtime().toMillis()); // the outage itself, then the supervisor's restart
        launch(worker);
      }
      case PAUSE_WORKER -> pauseFor(worker);
      case RESTART_WORKER -> {
        exitCode = nodes[worker].stop(Duration.ofSeconds(120));
        launch(worker);
      }
      case ENGINE_FAILURE -> {
        long before = engineFailures();
        post(managementPorts[worker], "/chaos/fail?runs=1");
        // healing counts from the failure, which the next job on that worker triggers
        Waits.until("the armed engine failure", HEALED, () -> engineFailures() > before);
      }
      case KILL_FRONTEND -> {
        nodes[0].kill();
        Thread.sleep(options.downtime().toMillis());
        launch(0);
      }
      case PAUSE_FRONTEND -> pauseFor(0);
      case RESTART_FRONTEND -> {
        exitCode = nodes[0].stop(Duration.ofSeconds(120));
        launch(0);
      }
      case CLOCK_AHEAD_WORKER -> {
        exitCode = nodes[worker].stop(Duration.ofSeconds(120));
        clocks[worker] = "+2h";
        launch(worker);
      }
      case KILL_SECOND_FRONTEND -> {
        if (options.frontends() < 2) {
          throw new IllegalStateException(fault + " needs several frontends (-frontends 3)");
        }
        nodes[options.workers() + 1].kill();
        Thread.sleep(options.downtime().toMillis());
        launch(options.workers() + 1);
      }
      case CLOCK_BEHIND_FRONTEND -> {
        exitCode = nodes[0].stop(Duration.ofSeconds(120));
        clocks[0] = "-2h";
        launch(0);
      }
      default -> throw new IllegalArgumentException(fault.name());
    }
    long returned = System.nanoTime();
    double heal = awaitHealthy(HEALED) ? (System.nanoTime() - returned) / 1e9 : -1;
    Thread.sleep(TAIL.toMillis());
    long to = System.nanoTime();
    return summarize(fault, from, to, heal, exitCode, Math.max(0, rejoins() - rejoinsBefore));
  }

  private void pauseFor(int node) throws InterruptedException {
    nodes[node].pause();
    try {
      Thread.sleep(options.pause().toMillis()); // the pause is the fault
    } finally {
      nodes[node].resume();
    }
  }

  /** Stops the load, waiting for the requests in flight, and returns the rows of everything. */
  public void finish() throws InterruptedException {
    if (load != null) {
      load.stop(Duration.ofMinutes(3));
    }
  }

  private Row summarize(Fault fault, long from, long to, double heal, int exitCode, long rejoins)
      throws InterruptedException {
    // every request in flight during the fault counts (one that started before it and waited
    // through it too): wait until those have ended, as the load runs on
    Waits.within(Duration.ofMinutes(3), () -> load.inFlightStartedBetween(Long.MIN_VALUE, to) == 0);
    List<LoadDriver.Outcome> window = load.during(from, to);
    int ok = 0;
    int errors = 0;
    // one still unanswered after 3 minutes has hung: it counts, as lost
    int hung = load.inFlightStartedBetween(Long.MIN_VALUE, to);
    int lost = hung;
    int wrong = 0;
    Map<String, Integer> notes = new TreeMap<>();
    List<Long> latencies = new ArrayList<>();
    for (LoadDriver.Outcome o : window) {
      latencies.add(o.millis());
      switch (o.kind()) {
        case OK -> ok++;
        case ERROR -> errors++;
        case LOST -> lost++;
        case WRONG -> wrong++;
        default -> throw new IllegalStateException();
      }
      if (o.kind() != LoadDriver.Kind.OK) {
        notes.merge(o.kind() + ": " + o.detail(), 1, Integer::sum);
      }
    }
    if (hung > 0) {
      notes.merge("LOST: no answer after 3 minutes", hung, Integer::sum);
    }
    latencies.sort(null);
    long p99 =
        latencies.isEmpty() ? 0 : latencies.get((int) Math.ceil(latencies.size() * 0.99) - 1);
    long max = latencies.isEmpty() ? 0 : latencies.get(latencies.size() - 1);
    Row row =
        new Row(
            fault,
            window.size() + hung,
            ok,
            errors,
            lost,
            wrong,
            p99,
            max,
            heal,
            exitCode,
            rejoins,
            notes.toString());
    options.log().println("chaos: " + row);
    return row;
  }

  /** Frontend ready with every worker registered, and every node's own probe ready. */
  private boolean awaitHealthy(Duration timeout) {
    return Waits.within(timeout, this::healthy);
  }

  private boolean healthy() {
    try {
      for (int i = 0; i < nodes.length; i++) {
        if (isFrontend(i)) {
          JsonNode status = JSON.readTree(get(httpPorts[i], "/status/server").body());
          if (status.path("num_workers").asInt() != options.workers()) {
            return false;
          }
        }
      }
      for (int port : managementPorts) {
        if (get(port, "/ready").statusCode() != 200) {
          return false;
        }
      }
      return true;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Incarnations started by nodes the cluster removed, over all nodes (bert_rejoins_total). */
  private long rejoins() {
    long sum = 0;
    for (int port : managementPorts) {
      try {
        sum += rejoinsIn(get(port, "/metrics").body());
      } catch (IOException e) {
        // a node that is down has no count to add
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return sum;
  }

  /** The frontend's count of failed TensorFlow runs. */
  private long engineFailures() {
    try {
      return JSON.readTree(get(httpPort, "/status/server").body())
          .path("statistic")
          .path("engine_failures")
          .asLong();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(2))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private void post(int port, String path) throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("POST " + path + ": " + r.statusCode() + " " + r.body());
    }
  }

  /** The ports node {@code i} opened at its first start: the ones it restarts on. */
  private void learnPorts(int i) {
    NodePorts opened = nodes[i].ports(READY);
    clusterPorts[i] = opened.cluster();
    managementPorts[i] = opened.management();
    if (isFrontend(i)) {
      httpPorts[i] = opened.http();
    }
    if (i == 0) {
      httpPort = opened.http();
    }
  }

  /**
   * Starts node {@code i}: at first on ports the kernel chooses, the frontend forming the cluster
   * and the workers joining it; again (after a fault) on its first ports, every node a seed.
   */
  private void launch(int i) {
    List<String> seeds = new ArrayList<>();
    for (int port : clusterPorts) {
      if (port > 0) {
        seeds.add("127.0.0.1:" + port);
      }
    }
    List<String> args =
        new ArrayList<>(
            List.of(
                "-role",
                isFrontend(i) ? "frontend" : "worker",
                "-cluster_host",
                "127.0.0.1",
                "-cluster_port",
                String.valueOf(clusterPorts[i]),
                "-management_interface",
                "127.0.0.1",
                "-management_port",
                String.valueOf(managementPorts[i]),
                "-max_seq_len",
                String.valueOf(options.maxSeqLen())));
    if (isFrontend(i)) {
      args.addAll(
          List.of("-http_interface", "127.0.0.1", "-http_port", String.valueOf(httpPorts[i])));
    } else {
      args.addAll(List.of("-num_worker", "1"));
    }
    if (options.modelDir() != null) {
      args.addAll(List.of("-model_dir", options.modelDir().toString()));
    }
    List<String> jvm = new ArrayList<>(options.jvm());
    jvm.add("-Dbert-serving.chaos.enabled=on");
    if (seeds.isEmpty()) {
      jvm.add("-Dbert-serving.cluster.join-self=on");
    } else {
      args.addAll(List.of("-seed_nodes", String.join(",", seeds)));
    }
    if (!isFrontend(i)) {
      jvm.add("-Dbert-serving.http.enabled=off");
    }
    nodes[i] =
        NodeProcess.start(
            i == 0
                ? "frontend"
                : isFrontend(i) ? "frontend" + (i - options.workers() + 1) : "worker" + i,
            options.classpath(),
            jvm,
            args,
            options.logDir(),
            Map.of(),
            clocks[i] == null ? List.of() : List.of("faketime", "-f", clocks[i]));
  }

  /** A node's {@code bert_rejoins_total} in its {@code /metrics} text, 0 when absent. */
  static long rejoinsIn(String metrics) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith("bert_rejoins_total ")) {
        // the Prometheus client writes every value as a double ("1.0")
        return (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1).trim());
      }
    }
    return 0;
  }

  /** Node 0 and those after the workers are frontends. */
  private boolean isFrontend(int i) {
    return i == 0 || i > options.workers();
  }

  /** Whether Debian's faketime, which the clock faults run a node under, is installed. */
  public static boolean hasFaketime() {
    try {
      Process p = new ProcessBuilder("faketime", "-f", "+0", "true").start();
      return p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The nodes' outputs, for a failure report. */
  public String outputs() {
    return NodeProcess.logs(nodes);
  }

  /** The table the chaos tool prints (Markdown). */
  public static String table(List<Row> rows) {
    StringBuilder s =
        new StringBuilder(
            "| fault | requests | ok | errors | lost | wrong | p99 ms"
                + " | max ms | in-process rejoins | s back to full capacity |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) {
      s.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %s |%n",
              r.fault().description,
              r.requests(),
              r.ok(),
              r.errors(),
              r.lost(),
              r.wrong(),
              r.p99Millis(),
              r.maxMillis(),
              r.rejoins(),
              r.healSeconds() < 0
                  ? "not healed"
                  : String.format(Locale.ROOT, "%.1f", r.healSeconds())));
    }
    return s.toString();
  }

  @Override
  public void close() {
    if (load != null) {
      load.close();
    }
    for (NodeProcess node : nodes) {
      if (node != null) {
        node.close();
      }
    }
  }
}

package org.bertserving.tools;

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
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.bertserving.client.BertClient;

/**
 * Real network partitions: a frontend and two worker node JVMs, each in a network namespace of its
 * own on one bridge ({@link Netns}), bound to its namespace's address, under steady load through
 * the SDK from this JVM to the frontend's HTTP address; then one node's link (or both workers') is
 * cut and healed. For each fault it counts what the clients saw (see {@link PartitionReport}) and
 * how long the cluster took, from the links' return, to be at full capacity again.
 */
public final class PartitionRun implements AutoCloseable {

  /** The partitions, in the order a full run applies them. */
  public enum Fault {
    ONE_WORKER("a worker's link cut for 25 s", 25),
    BOTH_WORKERS("both workers' links cut for 20 s", 20),
    FRONTEND("the frontend's link cut for 20 s", 20);

    public final String description;
    final Duration cut;

    Fault(String description, int seconds) {
      this.description = description;
      this.cut = Duration.ofSeconds(seconds);
    }
  }

  /**
   * How to run.
   *
   * @param modelDir the model folder, or {@code null} for the default model
   * @param classpath the service's class path for the node JVMs
   * @param jvm JVM options of every node
   * @param corpus texts the clients send
   */
  public record Options(
      Path modelDir,
      int maxSeqLen,
      int clients,
      int maxTexts,
      String classpath,
      List<String> jvm,
      List<String> corpus,
      Path logDir,
      PrintStream log) {}

  static final List<String> NODES = List.of("frontend", "worker1", "worker2");
  // each node has a namespace, hence ports, of its own: the defaults never collide
  private static final int CLUSTER_PORT = 25520;
  private static final int MANAGEMENT_PORT = 8558;
  private static final int HTTP_PORT = 8125;
  private static final Duration READY = Duration.ofMinutes(3);
  private static final Duration HEALED = Duration.ofSeconds(90);

  /** Load kept on after healing, so that the requests right after it count too. */
  private static final Duration TAIL = Duration.ofSeconds(5);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Options options;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final NodeProcess[] nodes = new NodeProcess[NODES.size()];
  private Netns net;
  private LoadDriver load;

  public PartitionRun(Options options) {
    this.options = options;
  }

  /** Makes the namespaces, starts every node, waits for full capacity, records the vectors. */
  public void start() throws Exception {
    net = Netns.create(NODES);
    launch(0); // forms the cluster the workers join
    nodes[0].ports(READY);
    for (int i = 1; i < nodes.length; i++) {
      launch(i);
    }
    for (int i = 1; i < nodes.length; i++) {
      nodes[i].ports(READY);
    }
    Waits.until("the frontend with both workers, every node ready", READY, this::healthy);
    Map<String, float[]> expected = new HashMap<>();
    try (BertClient baseline =
        BertClient.builder()
            .http(frontend())
            .timeout(Duration.ofMinutes(2))
            .checkLength(false)
            .build()) {
      List<String> corpus = options.corpus();
      for (int from = 0; from < corpus.size(); from += 32) {
        List<String> batch = corpus.subList(from, Math.min(corpus.size(), from + 32));
        float[][] vectors = baseline.encode(batch);
        for (int i = 0; i < batch.size(); i++) {
          expected.put(batch.get(i), vectors[i]);
        }
      }
    }
    load =
        new LoadDriver(
            List.of(frontend()),
            options.corpus(),
            expected,
            options.clients(),
            options.maxTexts(),
            Duration.ofSeconds(70));
    load.start();
  }

  /** Cuts and heals the links of one fault under load, and measures it. */
  public PartitionReport.Row run(Fault fault) throws Exception {
    options.log().println("partition: " + fault.description);
    List<String> cut =
        switch (fault) {
          case ONE_WORKER -> List.of("worker1");
          case BOTH_WORKERS -> List.of("worker1", "worker2");
          case FRONTEND -> List.of("frontend");
        };
    long rejoinsBefore = rejoins();
    long from = System.nanoTime();
    List<CompletableFuture<PartitionReport.Probe>> probes = new ArrayList<>();
    try {
      cut.forEach(net::cut);
      long end = from + fault.cut.toNanos();
      if (fault == Fault.BOTH_WORKERS) {
        // what a caller without the SDK's retries sees while no worker is reachable: a probe
        // every 250 ms, each on its own, so that one held does not delay the next
        while (System.nanoTime() < end - Duration.ofSeconds(6).toNanos()) {
          probes.add(probe(from));
          Thread.sleep(250); // pacing of the probes, not a wait for a condition
        }
      }
      Thread.sleep(Math.max(0, (end - System.nanoTime()) / 1_000_000)); // the partition itself
    } finally {
      cut.forEach(net::heal);
    }
    long healed = System.nanoTime();
    double heal =
        Waits.within(HEALED, this::healthy) ? (System.nanoTime() - healed) / 1e9 : Double.NaN;
    Thread.sleep(TAIL.toMillis());
    long to = System.nanoTime();
    // every request in flight during the fault counts: wait until those have ended
    Waits.within(Duration.ofMinutes(3), () -> load.inFlightStartedBetween(Long.MIN_VALUE, to) == 0);
    PartitionReport.Row row =
        PartitionReport.row(
            fault,
            load.during(from, to),
            load.inFlightStartedBetween(Long.MIN_VALUE, to),
            probes.stream().map(CompletableFuture::join).toList(),
            heal,
            Math.max(0, rejoins() - rejoinsBefore));
    options.log().println("partition: " + row);
    return row;
  }

  /**
   * One request straight to the frontend (no retry), sent now and not waited for: its status, time
   * and Retry-After, status 0 when no answer came within 5 s.
   */
  private CompletableFuture<PartitionReport.Probe> probe(long cutAt) throws IOException {
    long start = System.nanoTime();
    byte[] body =
        JSON.writeValueAsBytes(Map.of("id", 1, "texts", List.of(options.corpus().get(0))));
    return http.sendAsync(
            HttpRequest.newBuilder(frontend().resolve("/encode"))
                .timeout(Duration.ofSeconds(5))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .handle(
            (r, e) ->
                new PartitionReport.Probe(
                    start - cutAt,
                    System.nanoTime() - start,
                    r == null ? 0 : r.statusCode(),
                    r == null ? null : r.headers().firstValue("Retry-After").orElse(null)));
  }

  /** Stops the load, waiting for the requests in flight. */
  public void finish() throws InterruptedException {
    if (load != null) {
      load.stop(Duration.ofMinutes(3));
    }
  }

  /** The frontend with both workers registered, and every node's own probe ready. */
  private boolean healthy() throws IOException, InterruptedException {
    if (JSON.readTree(get(0, HTTP_PORT, "/status/server").body()).path("num_workers").asInt()
        != 2) {
      return false;
    }
    for (int i = 0; i < nodes.length; i++) {
      if (get(i, MANAGEMENT_PORT, "/ready").statusCode() != 200) {
        return false;
      }
    }
    return true;
  }

  /** Incarnations started by nodes the cluster removed, over all nodes (bert_rejoins_total). */
  private long rejoins() {
    long sum = 0;
    for (int i = 0; i < nodes.length; i++) {
      try {
        sum += ChaosRun.rejoinsIn(get(i, MANAGEMENT_PORT, "/metrics").body());
      } catch (IOException e) {
        // a node out of reach has no count to add
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return sum;
  }

  private HttpResponse<String> get(int node, int port, String path)
      throws IOException, InterruptedException {
    URI uri = URI.create("http://" + net.address(NODES.get(node)) + ":" + port + path);
    return http.send(
        HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private URI frontend() {
    return URI.create("http://" + net.address("frontend") + ":" + HTTP_PORT);
  }

  /** Starts node {@code i} in its namespace, bound to its namespace's address. */
  private void launch(int i) {
    String name = NODES.get(i);
    String host = net.address(name);
    List<String> args =
        new ArrayList<>(
            List.of(
                "-role",
                i == 0 ? "frontend" : "worker",
                "-cluster_host",
                host,
                "-cluster_port",
                String.valueOf(CLUSTER_PORT),
                "-management_interface",
                host,
                "-management_port",
                String.valueOf(MANAGEMENT_PORT),
                "-max_seq_len",
                String.valueOf(options.maxSeqLen())));
    List<String> jvm = new ArrayList<>(options.jvm());
    if (i == 0) {
      args.addAll(List.of("-http_interface", host, "-http_port", String.valueOf(HTTP_PORT)));
      jvm.add("-Dbert-serving.cluster.join-self=on");
    } else {
      String seed = net.address("frontend") + ":" + CLUSTER_PORT;
      args.addAll(List.of("-num_worker", "1", "-seed_nodes", seed));
      jvm.add("-Dbert-serving.http.enabled=off");
    }
    if (options.modelDir() != null) {
      args.addAll(List.of("-model_dir", options.modelDir().toString()));
    }
    nodes[i] =
        NodeProcess.start(
            name, options.classpath(), jvm, args, options.logDir(), Map.of(), net.prefix(name));
  }

  /** Where each node's output is, for a failure report. */
  public String outputs() {
    return NodeProcess.logs(nodes);
  }

  /** Stops the load and every node, then removes the namespaces and the bridge. */
  @Override
  public void close() {
    try {
      if (load != null) {
        load.close();
      }
      for (NodeProcess node : nodes) {
        if (node != null) {
          node.close();
        }
      }
    } finally {
      if (net != null) {
        net.close();
      }
    }
  }
}

package org.bertserving.tools;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bertserving.client.BertClient;
import org.bertserving.client.ServerStatus;
import org.bertserving.server.NodePorts;

/**
 * One 8-token query at a time through the Java SDK over HTTP, with each of the transports its
 * blocking calls can take (Apache HttpClient 5's classic API, the JDK's {@code HttpClient}), in
 * turns in one run against one server: a node JVM serving BERT-Base started here, or the server at
 * {@code --url}; flags after {@code --} go to the node (e.g. {@code -model all-minilm-l6-v2}).
 * Prints a Markdown table of milliseconds per query. Part of {@code
 * ops/bert-serving-benchmark-sdk}.
 */
public final class SdkLatency {
  private static final Path LOGS = Path.of("ops", "run", "sdk-latency");
  private static final List<String> QUERY = List.of("how do I cook rice tonight");

  private SdkLatency() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> flags = new LinkedHashMap<>(Map.of("--seconds", "40", "--turns", "8"));
    List<String> nodeFlags = new ArrayList<>(); // after "--": the node's, e.g. -model NAME
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--")) {
        nodeFlags.addAll(List.of(args).subList(i + 1, args.length));
        break;
      }
      flags.put(args[i], args[++i]);
    }
    double seconds = Double.parseDouble(flags.get("--seconds"));
    int turns = Integer.parseInt(flags.get("--turns"));
    NodeProcess node = null;
    try {
      String url = flags.get("--url");
      if (url == null) {
        List<String> nodeArgs = new ArrayList<>(List.of("-max_seq_len", "40"));
        nodeArgs.addAll(NodeProcess.loopbackFlags());
        nodeArgs.addAll(nodeFlags);
        node =
            NodeProcess.start(
                "sdk-latency", NodeProcess.ownClasspath(), List.of("-Xmx2g"), nodeArgs, LOGS);
        NodePorts ports = node.ports(Duration.ofMinutes(3));
        url = "http://127.0.0.1:" + ports.http();
      }
      run(URI.create(url), nodeFlags, seconds, turns);
    } finally {
      if (node != null) {
        node.close();
      }
    }
    System.exit(0);
  }

  private static void run(URI server, List<String> nodeFlags, double seconds, int turns)
      throws Exception {
    Map<String, BertClient> clients = new LinkedHashMap<>();
    for (String transport : List.of("apache", "jdk")) {
      // read when a client is built: each client keeps the transport it was built with
      System.setProperty("org.bertserving.client.transport", transport);
      clients.put(transport, BertClient.builder().http(server).checkLength(false).build());
    }
    System.clearProperty("org.bertserving.client.transport");
    BertClient any = clients.values().iterator().next();
    Waits.until(
        "a worker at " + server + " (logs in " + LOGS.toAbsolutePath() + ")",
        Duration.ofMinutes(3),
        () -> workers(any) > 0);
    Map<String, List<Double>> ms = new LinkedHashMap<>();
    clients.forEach((name, c) -> ms.put(name, new ArrayList<>()));
    for (BertClient c : clients.values()) { // the JIT of both paths warm before any measure
      times(c, Math.min(5, seconds / 4));
    }
    List<String> order = new ArrayList<>(clients.keySet());
    for (int turn = 0; turn < turns; turn++) {
      for (String name : order) {
        ms.get(name).addAll(times(clients.get(name), seconds / turns / clients.size()));
      }
      java.util.Collections.reverse(order); // neither always first
    }
    clients.values().forEach(BertClient::close);
    System.out.printf(
        Locale.ROOT,
        "# The SDK's blocking transports, one query of 8 tokens at a time%n%n"
            + "%s, Java %s; %s %s; %d turns of each, %.0f s in all%n%n"
            + "| transport | queries | p50 ms | p90 ms | p99 ms | mean ms |%n"
            + "|---|---:|---:|---:|---:|---:|%n",
        org.bertserving.engine.GpuPlatform.cpu(),
        System.getProperty("java.version"),
        server,
        nodeFlags.isEmpty() ? "(BERT-Base)" : String.join(" ", nodeFlags),
        turns,
        seconds);
    ms.forEach(
        (name, t) ->
            System.out.printf(
                Locale.ROOT,
                "| %s | %d | %.2f | %.2f | %.2f | %.2f |%n",
                name.equals("jdk") ? "JDK java.net.http.HttpClient" : "Apache HttpClient 5 classic",
                t.size(),
                quantile(t, 0.5),
                quantile(t, 0.9),
                quantile(t, 0.99),
                t.stream().mapToDouble(Double::doubleValue).average().orElse(0)));
  }

  private static int workers(BertClient client) {
    try {
      ServerStatus s = client.serverStatus();
      return s.numWorkers();
    } catch (RuntimeException e) {
      return 0;
    }
  }

  /** Milliseconds of each query sent back to back for {@code seconds}. */
  private static List<Double> times(BertClient client, double seconds) {
    List<Double> ms = new ArrayList<>();
    long end = System.nanoTime() + (long) (seconds * 1e9);
    while (System.nanoTime() < end) {
      long t = System.nanoTime();
      client.encode(QUERY);
      ms.add((System.nanoTime() - t) / 1e6);
    }
    return ms;
  }

  private static double quantile(List<Double> ms, double q) {
    List<Double> sorted = new ArrayList<>(ms);
    sorted.sort(null);
    return sorted.get(Math.max(0, (int) Math.ceil(sorted.size() * q) - 1));
  }
}

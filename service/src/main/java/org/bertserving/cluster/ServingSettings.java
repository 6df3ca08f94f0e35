package org.bertserving.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.List;
import org.bertserving.engine.EngineSettings;

/**
 * The {@code bert-serving} section of the config, read once at start; a bad value fails fast with
 * the key's name.
 */
public record ServingSettings(
    List<NodeModel> nodeModels,
    int numWorker,
    List<Integer> deviceMap,
    int prefetchSize,
    int priorityBatchSize,
    int maxPendingRows,
    int maxRequestRows,
    Duration requestTimeout,
    boolean showTokensToClient,
    boolean httpEnabled,
    String httpInterface,
    int httpPort,
    int httpMaxConnections,
    String cors,
    long maxBodyBytes,
    List<String> roles,
    List<String> seedNodes,
    boolean bootstrap,
    boolean joinSelf,
    Duration rejoinWithoutFrontend,
    long frameBytes,
    boolean managementEnabled,
    String managementInterface,
    int managementPort,
    boolean chaosEnabled,
    boolean cpuOnly,
    Zmq zmq) {

  /** bert-as-service's ZeroMQ door ({@code bert-serving.zmq}); off unless -port/-port_out. */
  public record Zmq(
      boolean enabled,
      String iface,
      int port,
      int portOut,
      boolean allowTermination,
      String model) {
    /** TERMINATION is allowed only when asked for and the door listens on loopback alone. */
    public boolean terminationAllowed() {
      return allowTermination && (iface.equals("127.0.0.1") || iface.equals("localhost"));
    }
  }

  /**
   * These settings with the ports a node bound (a port given as 0 is the one the kernel chose), so
   * that its later incarnations open the same ones; 0 keeps what is set.
   */
  public ServingSettings withPorts(int http, int management, int zmqIn, int zmqOut) {
    return new ServingSettings(
        nodeModels,
        numWorker,
        deviceMap,
        prefetchSize,
        priorityBatchSize,
        maxPendingRows,
        maxRequestRows,
        requestTimeout,
        showTokensToClient,
        httpEnabled,
        httpInterface,
        http > 0 ? http : httpPort,
        httpMaxConnections,
        cors,
        maxBodyBytes,
        roles,
        seedNodes,
        bootstrap,
        joinSelf,
        rejoinWithoutFrontend,
        frameBytes,
        managementEnabled,
        managementInterface,
        management > 0 ? management : managementPort,
        chaosEnabled,
        cpuOnly,
        new Zmq(
            zmq.enabled,
            zmq.iface,
            zmqIn > 0 ? zmqIn : zmq.port,
            zmqOut > 0 ? zmqOut : zmq.portOut,
            zmq.allowTermination,
            zmq.model));
  }

  /** How long past the request timeout the layers around the frontend wait for its answer. */
  public static final Duration GRACE = Duration.ofSeconds(5);

  public static ServingSettings create(Config root) {
    Config c = root.getConfig("bert-serving");
    try {
      Config w = c.getConfig("workers");
      Config f = c.getConfig("frontend");
      Config h = c.getConfig("http");
      Config m = c.getConfig("management");
      ServingSettings s =
          new ServingSettings(
              ModelSettings.read(c),
              w.getInt("num-worker"),
              w.getBoolean("cpu") ? List.of() : w.getIntList("device-map"),
              w.getInt("prefetch-size"),
              f.getInt("priority-batch-size"),
              f.getInt("max-pending-rows"),
              f.getInt("max-request-rows"),
              f.getDuration("request-timeout"),
              f.getBoolean("show-tokens-to-client"),
              h.getBoolean("enabled"),
              h.getString("interface"),
              h.getInt("port"),
              h.getInt("max-connections"),
              h.getString("cors"),
              h.getBytes("max-body-bytes"),
              root.getStringList("akka.cluster.roles"),
              root.getStringList("akka.cluster.seed-nodes"),
              c.getBoolean("cluster.bootstrap"),
              c.getBoolean("cluster.join-self"),
              c.getDuration("cluster.rejoin-without-frontend-after"),
              root.getBytes("akka.remote.artery.advanced.maximum-frame-size"),
              m.getBoolean("enabled"),
              m.getString("interface"),
              m.getInt("port"),
              c.getBoolean("chaos.enabled"),
              w.getBoolean("cpu"),
              new Zmq(
                  c.getBoolean("zmq.enabled"),
                  c.getString("zmq.interface"),
                  c.getInt("zmq.port"),
                  c.getInt("zmq.port-out"),
                  c.getBoolean("zmq.allow-termination"),
                  c.getString("zmq.model").trim()));
      require(s.numWorker >= 0, "bert-serving.workers.num-worker", "must be >= 0");
      require(s.prefetchSize >= 1, "bert-serving.workers.prefetch-size", "must be >= 1");
      require(s.maxPendingRows >= 1, "bert-serving.frontend.max-pending-rows", "must be >= 1");
      require(s.httpPort >= 0 && s.httpPort < 65536, "bert-serving.http.port", "must be a port");
      require(
          s.managementPort >= 0 && s.managementPort < 65536,
          "bert-serving.management.port",
          "must be a port");
      require(
          s.requestTimeout.toMillis() > 0, "bert-serving.frontend.request-timeout", "must be > 0");
      require(
          !s.rejoinWithoutFrontend.isNegative(),
          "bert-serving.cluster.rejoin-without-frontend-after",
          "must be >= 0");
      // read when an incarnation leaves the cluster (BertServer): checked at the start
      require(
          c.getDuration("cluster.stuck-termination-after").toMillis() > 0,
          "bert-serving.cluster.stuck-termination-after",
          "must be > 0");
      require(
          !s.roles.isEmpty() && List.of("frontend", "worker").containsAll(s.roles),
          "akka.cluster.roles",
          "must be frontend, worker or both");
      return s;
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  public boolean isFrontend() {
    return roles.contains("frontend");
  }

  public boolean isWorker() {
    return roles.contains("worker");
  }

  /**
   * How the node finds its cluster must add up: a node that holds one role only needs seed nodes,
   * Cluster Bootstrap or {@code join-self} (alone it would form a cluster of its own, an island no
   * request reaches); {@code join-self} takes neither seeds nor bootstrap; bootstrap needs a fixed
   * management port, its contact point.
   */
  public void checkFormation() {
    if (joinSelf && (bootstrap || !seedNodes.isEmpty())) {
      throw new IllegalArgumentException(
          "bert-serving.cluster.join-self = on forms a new cluster: it takes no -seed_nodes and no"
              + " bert-serving.cluster.bootstrap");
    }
    if (bootstrap && managementPort == 0) {
      throw new IllegalArgumentException(
          "bert-serving.cluster.bootstrap = on needs a fixed bert-serving.management.port, not 0:"
              + " it is the contact point the other nodes probe");
    }
    if (roles.size() == 1 && seedNodes.isEmpty() && !bootstrap && !joinSelf) {
      throw new IllegalArgumentException(
          "a "
              + roles.get(0)
              + "-only node needs -seed_nodes "
              + "(several, e.g. every node of the cluster) or bert-serving.cluster.bootstrap = on"
              + " (or, for the node that forms the cluster, bert-serving.cluster.join-self = on);"
              + " alone it would form a cluster of its own");
    }
  }

  /**
   * A node whose cluster address is loopback (cluster-conf's default, 127.0.0.1) cannot be reached
   * from another machine: with a seed node on another host, its join would never complete. Refused
   * at start, naming the flag; a seed that is an address of this machine is fine.
   *
   * @param canonicalHost {@code akka.remote.artery.canonical.hostname}
   */
  public void checkAddress(String canonicalHost) {
    if (!loopback(canonicalHost)) {
      return;
    }
    for (String seed : seedNodes) {
      String host = akka.actor.AddressFromURIString.parse(seed).getHost().orElse("");
      if (!host.isEmpty() && !loopback(host) && !local(host)) {
        throw new IllegalArgumentException(
            "this node's cluster address is "
                + canonicalHost
                + " (loopback), which the seed node "
                + seed
                + " on another host cannot reach: start the node with -cluster_host (or"
                + " BERT_CLUSTER_HOST, akka.remote.artery.canonical.hostname) set to this"
                + " machine's address on the cluster's network");
      }
    }
  }

  private static boolean loopback(String host) {
    String h = host.trim().toLowerCase(java.util.Locale.ROOT);
    return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]");
  }

  /**
   * Whether {@code host} names an address of one of this machine's interfaces (asked only for a
   * loopback node with seeds, so a start without that mistake never waits on a name lookup).
   */
  private static boolean local(String host) {
    try {
      java.net.InetAddress address =
          java.net.InetAddress.getByName(host.replace("[", "").replace("]", ""));
      return address.isLoopbackAddress()
          || java.net.NetworkInterface.getByInetAddress(address) != null;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  /**
   * The node's first model (the one of {@code -model} or {@code -model_dir} when they name one):
   * the default of requests that name none when the node holds both roles.
   */
  public EngineSettings engine() {
    return nodeModels.get(0).engine();
  }

  /** Every model of this node, in the order listed. */
  public List<EngineSettings> models() {
    return nodeModels.stream().map(NodeModel::engine).toList();
  }

  /** The engine settings of the first model's worker {@code index}: its device, in turn. */
  public EngineSettings engineFor(int index) {
    return engineFor(index, deviceMap);
  }

  /**
   * The engine settings of the first model's worker {@code index} under {@code devices}; see {@link
   * NodeModel#engineFor}.
   */
  public EngineSettings engineFor(int index, List<Integer> devices) {
    return nodeModels.get(0).engineFor(index, devices);
  }

  private static void require(boolean ok, String key, String what) {
    if (!ok) {
      throw new IllegalArgumentException(key + " " + what);
    }
  }
}

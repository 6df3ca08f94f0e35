package org.bertserving.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.PoolingStrategy;

/**
 * The {@code bert-serving} section of the config, read once at start; a bad value fails fast with
 * the key's name.
 */
public record ServingSettings(
    EngineSettings engine,
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
    long frameBytes,
    boolean managementEnabled,
    String managementInterface,
    int managementPort,
    boolean chaosEnabled,
    boolean cpuOnly,
    Zmq zmq) {

  /** bert-as-service's ZeroMQ door ({@code bert-serving.zmq}); off unless -port/-port_out. */
  public record Zmq(
      boolean enabled, String iface, int port, int portOut, boolean allowTermination) {
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
        engine,
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
            zmq.allowTermination));
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
              engine(c.getConfig("engine"), w),
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
                  c.getBoolean("zmq.allow-termination")));
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
          !s.roles.isEmpty() && List.of("frontend", "worker").containsAll(s.roles),
          "akka.cluster.roles",
          "must be frontend, worker or both");
      return s;
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** Keys left "" (or [] for the layers) follow the model: EngineSettings applies its defaults. */
  private static EngineSettings engine(Config e, Config w) {
    EngineSettings.Builder b = EngineSettings.builder();
    String cache = e.getString("model-cache-dir");
    if (!cache.isBlank()) {
      b.cacheDir(Path.of(cache));
    }
    String model = e.getString("model").trim();
    if (!model.isEmpty()) {
      b.model(model);
    }
    String modelDir = e.getString("model-dir");
    if (!modelDir.isBlank()) {
      b.modelDir(Path.of(modelDir));
    }
    String tuned = e.getString("tuned-model-dir");
    if (!tuned.isBlank()) {
      b.tunedModelDir(Path.of(tuned));
    }
    b.ckptName(e.getString("ckpt-name")).configName(e.getString("config-name"));
    String maxSeqLen = e.getString("max-seq-len").trim();
    if (maxSeqLen.equalsIgnoreCase("none") || maxSeqLen.equalsIgnoreCase("null")) {
      b.maxSeqLen(null);
    } else if (!maxSeqLen.isEmpty()) {
      b.maxSeqLen(e.getInt("max-seq-len"));
    }
    if (!e.getIntList("pooling-layer").isEmpty()) {
      b.poolingLayers(e.getIntList("pooling-layer"));
    }
    String strategy = e.getString("pooling-strategy").trim();
    try {
      if (!strategy.isEmpty()) {
        b.poolingStrategy(PoolingStrategy.parse(strategy));
      }
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException(
          "bert-serving.engine.pooling-strategy: " + ex.getMessage());
    }
    if (!e.getString("normalize").trim().isEmpty()) {
      b.normalize(e.getBoolean("normalize"));
    }
    b.prompt(e.getString("prompt"));
    b.backend(e.getString("backend"));
    b.numLabels(e.getInt("num-labels"))
        .maskClsSep(e.getBoolean("mask-cls-sep"))
        .noSpecialToken(e.getBoolean("no-special-token"))
        .fixedEmbedLength(e.getBoolean("fixed-embed-length"))
        .fp16(e.getBoolean("fp16"))
        .bf16(e.getBoolean("bf16"))
        .xla(e.getBoolean("xla"))
        .gpuMemoryFraction(e.getDouble("gpu-memory-fraction"))
        .tokenBudget(e.getInt("token-budget"))
        .intraOpThreads(e.getInt("intra-op-threads"))
        .interOpThreads(e.getInt("inter-op-threads"))
        .maxBatchSize(w.getInt("max-batch-size"));
    if (e.getBoolean("cased-tokenization")) {
      b.doLowerCase(false);
    }
    return b.build();
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

  /** The engine settings of worker {@code index}: its device from the device map, in turn. */
  public EngineSettings engineFor(int index) {
    return engineFor(index, deviceMap);
  }

  /**
   * The engine settings of worker {@code index} under {@code devices} (the device map, or every
   * visible GPU when none was given): its GPU in turn, and the one process-wide {@code
   * visible_device_list} (the distinct GPUs, ascending), or the CPU when there are none.
   */
  public EngineSettings engineFor(int index, List<Integer> devices) {
    if (devices.isEmpty()) {
      return engine.toBuilder().deviceId(-1).visibleDevices("").build();
    }
    String visible =
        devices.stream()
            .distinct()
            .sorted()
            .map(String::valueOf)
            .collect(java.util.stream.Collectors.joining(","));
    return engine.toBuilder()
        .deviceId(devices.get(index % devices.size()))
        .visibleDevices(visible)
        .build();
  }

  private static void require(boolean ok, String key, String what) {
    if (!ok) {
      throw new IllegalArgumentException(key + " " + what);
    }
  }
}

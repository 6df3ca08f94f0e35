package org.bertserving.server;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.bertserving.cluster.Metrics;
import org.bertserving.cluster.NodeModel;
import org.bertserving.cluster.NodeWorkers;
import org.bertserving.cluster.ServingSettings;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.GpuPlatform;
import org.bertserving.engine.ModelBackend;
import org.bertserving.engine.tf.DeviceProbe;
import org.bertserving.engine.tf.SizedSessions;
import org.bertserving.http.HttpSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node of the service. Loads the engines its {@code worker} role needs once (failing fast,
 * before joining the cluster), then runs them in an actor system whose {@link Guardian} wires the
 * frontend, the ports and the workers. When the cluster removes the node (downed by the split-brain
 * resolver after a pause or a partition, or because its only frontend was lost), the node joins
 * again in-process as a new incarnation, a new actor system with the same engines, instead of
 * exiting: no supervisor and no model reload are needed to heal. Tests start several in one JVM.
 */
public final class BertServer implements AutoCloseable {
  public static final String SYSTEM_NAME = "bert-serving";

  private static final Logger LOG = LoggerFactory.getLogger(BertServer.class);

  /** Pause before a removed node joins again, and between attempts when that fails. */
  private static final Duration REJOIN_DELAY = Duration.ofSeconds(1);

  private volatile Config config;
  private volatile ServingSettings settings;
  private final HttpSettings http;
  private final List<BertEncoder> engines;
  private final Metrics metrics = new Metrics();
  private final CompletableFuture<Void> started = new CompletableFuture<>();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final CompletableFuture<String> stuck = new CompletableFuture<>();
  // not a daemon: between two incarnations it is what keeps the JVM alive
  private final ScheduledExecutorService rejoins =
      Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "bert-serving-rejoin"));
  private volatile ActorSystem<Void> system;
  private volatile NodeWorkers workers;
  private volatile NodePorts ports;
  private volatile boolean stopping;

  private BertServer(
      Config config, ServingSettings settings, HttpSettings http, List<BertEncoder> engines) {
    this.config = config;
    this.settings = settings;
    this.http = http;
    this.engines = engines;
  }

  /**
   * Starts a node from a fully resolved config (reference.conf underneath). Throws when the
   * settings or the model are wrong or the cluster port is taken; the other ports report through
   * {@link #started()}.
   */
  public static BertServer start(Config config) throws IOException {
    ServingSettings settings = ServingSettings.create(config);
    settings.checkFormation();
    settings.checkAddress(config.getString("akka.remote.artery.canonical.hostname"));
    HttpSettings http = HttpSettings.create(config); // keys, certificates: before the model loads
    ArteryTls.check(config);
    List<BertEncoder> engines = new ArrayList<>();
    if (settings.isWorker()) {
      List<Integer> devices = devices(settings);
      try {
        for (NodeModel model : settings.nodeModels()) { // each model's workers, as for one
          ModelBackend.Opener backend = backend(model.engine().backend());
          for (int i = 0; i < model.workers(devices); i++) {
            engines.add(BertEncoder.load(model.engineFor(i, devices), backend));
          }
        }
      } catch (IOException | RuntimeException e) {
        engines.forEach(BertEncoder::close);
        throw e;
      }
    }
    BertServer server = new BertServer(derived(config, settings), settings, http, engines);
    try {
      server.incarnate();
    } catch (RuntimeException e) {
      engines.forEach(BertEncoder::close);
      throw e;
    }
    return server;
  }

  /**
   * The opener of {@code bert-serving.engine.backend}: TensorFlow's when {@code ""}, else an
   * instance of the class it names (a simulated GPU for a benchmark, another runtime), which must
   * implement {@link ModelBackend.Opener} and have a public no-argument constructor.
   */
  static ModelBackend.Opener backend(String className) {
    if (className.isEmpty()) {
      return SizedSessions::open;
    }
    String key = "bert-serving.engine.backend = " + className + ": ";
    Class<?> type;
    try {
      type = Class.forName(className);
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalArgumentException(key + "no such class on the class path (" + e + ")", e);
    }
    if (!ModelBackend.Opener.class.isAssignableFrom(type)) {
      throw new IllegalArgumentException(
          key + "does not implement " + ModelBackend.Opener.class.getName());
    }
    try {
      return (ModelBackend.Opener) type.getConstructor().newInstance();
    } catch (NoSuchMethodException e) {
      throw new IllegalArgumentException(key + "has no public no-argument constructor", e);
    } catch (ReflectiveOperationException | RuntimeException e) {
      Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e;
      throw new IllegalArgumentException(key + "cannot be created: " + cause, cause);
    }
  }

  /**
   * The GPUs this node's workers run on, each proven first (a missing driver, CUDA, cuDNN or GPU
   * stops the node in one line instead of a silent fall-back to the CPU): those of {@code
   * -device_map}; with none, every visible GPU, as bert-as-service did; none with {@code -cpu} or
   * when no GPU is visible.
   */
  static List<Integer> devices(ServingSettings settings) {
    if (GpuPlatform.gpuBuild() && GpuPlatform.cpuBuild()) {
      LOG.warn(
          "both TensorFlow native builds (linux-x86_64 and linux-x86_64-gpu) are on the class"
              + " path; the GPU build is used. Rebuild one of them (mvn clean package [-Pgpu])");
    }
    if (settings.cpuOnly()) {
      LOG.info("-cpu: the workers run on the CPU");
      return List.of();
    }
    List<Integer> devices = settings.deviceMap();
    if (devices.isEmpty()) {
      int visible = DeviceProbe.visibleGpus(settings.engine().gpuMemoryFraction());
      if (visible == 0) {
        LOG.info(
            "no -device_map and no GPU visible ({}): the workers run on the {}",
            GpuPlatform.gpuBuild() ? GpuPlatform.diagnosis() : "TensorFlow's CPU build",
            GpuPlatform.cpu());
        return List.of();
      }
      devices = java.util.stream.IntStream.range(0, visible).boxed().toList();
      LOG.info(
          "no -device_map: {} visible GPU(s), a worker on each: {}", visible, GpuPlatform.gpus());
    }
    String list = settings.engineFor(0, devices).visibleDevices();
    for (int gpu : devices.stream().distinct().toList()) {
      DeviceProbe.prove(gpu, list, settings.engine().gpuMemoryFraction());
    }
    return devices;
  }

  /**
   * The config with every timeout derived from the one request timeout: akka-http answers after the
   * frontend and its ask would have (so a client always gets the frontend's JSON error), idle
   * connections live longer than a request, and a graceful stop waits for requests in flight.
   * Requests naming no model go to a node's first model when it holds both roles and several
   * models, not to whichever of its workers happened to describe itself first.
   */
  static Config derived(Config config, ServingSettings s) {
    String defaultModel = "bert-serving.frontend.default-model";
    if (s.isFrontend()
        && s.isWorker()
        && s.nodeModels().size() > 1
        && config.getString(defaultModel).isBlank()) {
      config =
          config.withValue(defaultModel, ConfigValueFactory.fromAnyRef(s.engine().modelName()));
    }
    Duration timeout = s.requestTimeout();
    Duration idle = config.getDuration("akka.http.server.idle-timeout");
    Duration minIdle = timeout.plus(ServingSettings.GRACE.multipliedBy(3));
    return ConfigFactory.parseMap(
            Map.of(
                "akka.http.server.request-timeout",
                timeout.plus(ServingSettings.GRACE.multipliedBy(2)).toMillis() + "ms",
                "akka.http.server.idle-timeout",
                (idle.compareTo(minIdle) < 0 ? minIdle : idle).toMillis() + "ms",
                "akka.coordinated-shutdown.phases.service-requests-done.timeout",
                timeout.plus(ServingSettings.GRACE).toMillis() + "ms",
                // Cluster Bootstrap's contact point is our management port
                "akka.management.http.hostname",
                config.getString("akka.remote.artery.canonical.hostname"),
                "akka.management.http.port",
                s.managementPort()))
        .withFallback(config);
  }

  private void incarnate() {
    NodeWorkers incarnationWorkers = new NodeWorkers(engines.size());
    CompletableFuture<NodePorts> bound = new CompletableFuture<>();
    ActorSystem<Void> created;
    try {
      created =
          ActorSystem.create(
              Guardian.create(
                  settings, http, engines, metrics, incarnationWorkers, bound, this::stopAsked),
              SYSTEM_NAME,
              config);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "cannot open the cluster port "
              + config.getString("akka.remote.artery.canonical.hostname")
              + ":"
              + config.getInt("akka.remote.artery.canonical.port")
              + " (-cluster_port): "
              + e.getMessage(),
          e);
    }
    workers = incarnationWorkers;
    system = created;
    watchTermination(created);
    if (stopping) { // a stop asked while this incarnation started (close() found no system)
      created.terminate();
    }
    bound.whenComplete(
        (opened, e) -> {
          if (e != null) {
            LOG.error("{}", e.getMessage());
            created.terminate();
          }
          if (!started.isDone()) {
            if (e == null) {
              keep(opened);
              LOG.info("ports open: {}", opened);
              started.complete(null);
            } else {
              started.completeExceptionally(e);
            }
          }
        });
    created.getWhenTerminated().thenRun(() -> terminated(created));
  }

  /**
   * The first incarnation's ports, written into the config of the later ones: a port configured as
   * 0 (any free one) stays the same when the node joins again, so that clients and the other nodes'
   * seed lists still find it.
   */
  private void keep(NodePorts opened) {
    ports = opened;
    metrics.httpPort = opened.http();
    settings =
        settings.withPorts(opened.http(), opened.management(), opened.zmq(), opened.zmqOut());
    // Artery's port is Akka's own key; derived() gives Akka Management the management port
    config =
        derived(
            config.withValue(
                "akka.remote.artery.canonical.port",
                ConfigValueFactory.fromAnyRef(opened.cluster())),
            settings);
  }

  /**
   * An incarnation the cluster removed (or that left it) ends before the node joins again; when its
   * actor system does not end within {@code bert-serving.cluster.stuck-termination-after} (60 s; at
   * least {@link #TERMINATED_GRACE} past actor-system-terminate's timeout) of the coordinated
   * shutdown's last phase (Akka's remoting waiting for its streams without a deadline, as {@link
   * #close} also meets), the node would never join again and still hold its cluster port: {@link
   * #stuck()} says so, and the start command exits non-zero for its supervisor to restart it.
   */
  private void watchTermination(ActorSystem<Void> incarnation) {
    com.typesafe.config.Config config = incarnation.settings().config();
    long afterMillis =
        Math.max(
            config
                    .getDuration("akka.coordinated-shutdown.phases.actor-system-terminate.timeout")
                    .toMillis()
                + TERMINATED_GRACE.toMillis(),
            config.getDuration("bert-serving.cluster.stuck-termination-after").toMillis());
    CoordinatedShutdown.get(Adapter.toClassic(incarnation))
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "bert-serving-termination-watch",
            () -> {
              if (!stopping) {
                rejoins.schedule(
                    () -> {
                      if (!stopping && !incarnation.whenTerminated().isCompleted()) {
                        String why =
                            "the actor system "
                                + incarnation.address()
                                + " left the cluster but did not terminate within "
                                + afterMillis
                                + " ms (Akka's remoting still closing its connections): this"
                                + " node cannot join again in-process";
                        LOG.error("{}", why);
                        stuck.complete(why);
                      }
                    },
                    afterMillis,
                    TimeUnit.MILLISECONDS);
              }
              return CompletableFuture.completedFuture(akka.Done.done());
            });
  }

  /**
   * Completes, naming the cause, when an incarnation that left the cluster cannot end, so that the
   * node cannot join again in-process; a node run by {@code ops/bert-serving-start} then exits 70.
   */
  public java.util.concurrent.CompletionStage<String> stuck() {
    return stuck;
  }

  /** An incarnation ended: the end of the node, or a removal from the cluster to heal from. */
  private void terminated(ActorSystem<Void> ended) {
    if (stopping || !started.isDone() || started.isCompletedExceptionally()) {
      stopped.complete(null);
      return;
    }
    String reason =
        CoordinatedShutdown.get(Adapter.toClassic(ended))
            .getShutdownReason()
            .map(Object::toString)
            .orElse("terminated");
    metrics.rejoins.increment();
    LOG.warn(
        "this node left the cluster ({}); joining again as a new incarnation in {} ms",
        reason,
        REJOIN_DELAY.toMillis());
    scheduleRejoin();
  }

  private void scheduleRejoin() {
    rejoins.schedule(
        () -> {
          if (stopping) {
            stopped.complete(null);
            return;
          }
          try {
            incarnate();
          } catch (RuntimeException e) {
            LOG.error("cannot start a new incarnation ({}); trying again", e.getMessage());
            scheduleRejoin();
          }
        },
        REJOIN_DELAY.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** The current incarnation's actor system. */
  public ActorSystem<Void> system() {
    return system;
  }

  /**
   * Completes once the first incarnation has opened all its ports; fails naming the one it could
   * not.
   */
  public CompletableFuture<Void> started() {
    return started;
  }

  /** The ports this node listens on; null until {@link #started()} completes. */
  public NodePorts ports() {
    return ports;
  }

  /** The HTTP port (the API, or a worker-only node's probes); 0 if it has none. */
  public int httpPort() {
    return ports.http();
  }

  /** The cluster (Artery) port, for the other nodes' seed lists. */
  public int clusterPort() {
    return ports.cluster();
  }

  public Metrics metrics() {
    return metrics;
  }

  public ServingSettings settings() {
    return settings;
  }

  /** The fault switches of this node's engines (chaos runs; the management port arms them). */
  public List<org.bertserving.engine.FaultInjector> faults() {
    return engines.stream().map(BertEncoder::faults).toList();
  }

  /** The current incarnation's workers, as its readiness probe sees them. */
  public NodeWorkers workers() {
    return workers;
  }

  /**
   * The node was asked to stop through one of its own doors (bert-as-service's TERMINATION): it
   * stops as on SIGTERM, on a thread of its own (the door's thread is one the stop closes), and
   * {@link #closed} tells whoever runs it (the command line exits 0).
   */
  private void stopAsked() {
    Thread stop = new Thread(this::close, "bert-serving-stop-asked");
    stop.setDaemon(false);
    stop.start();
  }

  /** Completes once {@link #close} has ended: the node stopped for good, its engines closed. */
  public java.util.concurrent.CompletionStage<Void> closed() {
    return closed;
  }

  /**
   * Leaves the cluster and stops, letting requests in flight finish (coordinated shutdown), within
   * a bound: each phase of the coordinated shutdown has its own timeout, and past the last one
   * (actor-system-terminate) the system gets {@link #TERMINATED_GRACE} more to end; the engines
   * then get {@link #ENGINE_CLOSE} to close their sessions. What is still running after that (a
   * remoting stream Akka waits for without a deadline, a TensorFlow run that does not end) is
   * logged and left to the JVM's exit.
   */
  @Override
  public void close() {
    stopping = true;
    rejoins.shutdownNow();
    ActorSystem<Void> current;
    do { // a rejoin that was under way when the stop came ends too
      current = system;
      if (current == null || !leave(current)) { // null: asked to stop while its first start ran
        break;
      }
    } while (current != system);
    stopped.complete(null);
    closeEngines();
    closed.complete(null);
  }

  /**
   * Past the last phase of the coordinated shutdown, how long the actor system may still take to
   * end. Akka 2.6's Artery waits for its remoting streams without a deadline when it terminates;
   * worker nodes were seen to hang there after SIGTERM, "Remote daemon shut down; proceeding with
   * flushing remote transports" never followed by "Remoting shut down".
   */
  static final Duration TERMINATED_GRACE = Duration.ofSeconds(2);

  /**
   * How long the engines may take to close. TensorFlow's {@code Session.close} waits for the run in
   * progress, however long it takes (a hung device: for ever).
   */
  static final Duration ENGINE_CLOSE = Duration.ofSeconds(5);

  /** Runs the coordinated shutdown of {@code current}; false when it did not end in time. */
  private boolean leave(ActorSystem<Void> current) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(Adapter.toClassic(current));
    // run() returns the run already under way (a rejoin's, the system's own terminate) if any;
    // every phase is bounded by its timeout, so this ends within their sum
    CompletableFuture<?> phases =
        shutdown.runAll(CoordinatedShutdown.actorSystemTerminateReason()).toCompletableFuture();
    long phasesMillis = shutdown.totalTimeout().toMillis() + TERMINATED_GRACE.toMillis();
    try {
      phases.get(phasesMillis, TimeUnit.MILLISECONDS);
      current
          .getWhenTerminated()
          .toCompletableFuture()
          .get(TERMINATED_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      LOG.error(
          "the actor system {} did not terminate within {} ms of its coordinated shutdown's last"
              + " phase (Akka's remoting still closing its connections); stopping without it",
          current.address(),
          TERMINATED_GRACE.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException e) {
      LOG.error("the actor system {} ended with {}", current.address(), e.getCause());
      return true;
    }
    return false;
  }

  /**
   * Closes every engine, each waiting for its run in progress, all within {@link #ENGINE_CLOSE}.
   */
  private void closeEngines() {
    Thread closing = new Thread(() -> engines.forEach(BertEncoder::close), "bert-engine-close");
    closing.setDaemon(true); // a run that never ends must not keep the JVM
    closing.start();
    try {
      closing.join(ENGINE_CLOSE.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (closing.isAlive()) {
      LOG.error(
          "a TensorFlow run still in progress {} s after the stop holds its session open;"
              + " stopping without closing it",
          ENGINE_CLOSE.toSeconds());
    }
  }
}

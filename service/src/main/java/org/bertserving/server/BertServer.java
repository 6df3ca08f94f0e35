package org.bertserving.server;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.client.ClusterClientReceptionist;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.http.javadsl.ServerBinding;
import com.typesafe.config.Config;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.bertserving.cluster.ClusterGateway;
import org.bertserving.cluster.Frontend;
import org.bertserving.cluster.Metrics;
import org.bertserving.cluster.ServingSettings;
import org.bertserving.cluster.Worker;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.DefaultModel;
import org.bertserving.http.HttpServer;
import org.bertserving.zmq.ZmqDoor;

/**
 * One node of the service: loads the engines its {@code worker} role needs (failing fast, before
 * joining the cluster), then starts the actor system whose guardian only wires the frontend, the
 * HTTP server and the workers. Tests start several in one JVM.
 */
public final class BertServer implements AutoCloseable {
  public static final String SYSTEM_NAME = "bert-serving";

  private final ActorSystem<Void> system;
  private final CompletableFuture<ServerBinding> http;
  private final Metrics metrics;

  private BertServer(ActorSystem<Void> system, CompletableFuture<ServerBinding> http, Metrics metrics) {
    this.system = system;
    this.http = http;
    this.metrics = metrics;
  }

  /** Starts a node from a fully resolved config (reference.conf underneath). */
  public static BertServer start(Config config) throws IOException {
    ServingSettings settings = ServingSettings.create(config);
    String cache = config.getString("bert-serving.engine.model-cache-dir");
    if (!cache.isBlank()) {
      System.setProperty(DefaultModel.CACHE_PROPERTY, cache);
    }
    List<String> roles = config.getStringList("akka.cluster.roles");
    List<BertEncoder> engines = new ArrayList<>();
    if (roles.contains("worker")) {
      try {
        for (int i = 0; i < settings.numWorker(); i++) {
          engines.add(BertEncoder.load(settings.engineFor(i)));
        }
      } catch (IOException | RuntimeException e) {
        engines.forEach(BertEncoder::close);
        throw e;
      }
    }
    Metrics metrics = new Metrics();
    CompletableFuture<ServerBinding> http = new CompletableFuture<>();
    AtomicInteger warmWorkers = new AtomicInteger();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(context -> {
      Cluster cluster = Cluster.get(context.getSystem());
      if (config.getStringList("akka.cluster.seed-nodes").isEmpty()) {
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
      }
      if (roles.contains("frontend")) {
        ActorRef<Frontend.Command> frontend =
            context.spawn(Frontend.create(settings, metrics), "frontend");
        // JVMs next to the cluster reach the frontend through Akka's cluster client: at
        // /user/frontend with its own protocol, at /user/bert-gateway with the SDK's wire types
        var classic = Adapter.toClassic(context.getSystem());
        ClusterClientReceptionist.get(classic).registerService(Adapter.toClassic(frontend));
        ClusterClientReceptionist.get(classic).registerService(Adapter.actorOf(context,
            ClusterGateway.props(frontend, settings.requestTimeout().plusSeconds(5)), ClusterGateway.NAME));
        Config zmq = config.getConfig("bert-serving.zmq");
        if (zmq.getBoolean("enabled")) {
          String iface = zmq.getString("interface");
          boolean loopback = iface.equals("127.0.0.1") || iface.equals("localhost");
          ZmqDoor door = new ZmqDoor(context.getSystem(), frontend, iface, zmq.getInt("port"),
              zmq.getInt("port-out"), settings.requestTimeout().plusSeconds(5),
              settings.showTokensToClient(), zmq.getBoolean("allow-termination") && loopback,
              settings.engine().fp16());
          context.getSystem().getWhenTerminated().thenRun(door::close);
        }
        if (settings.httpEnabled()) {
          HttpServer.start(context.getSystem(), frontend, settings, metrics)
              .whenComplete((b, e) -> {
                if (e != null) {
                  http.completeExceptionally(e);
                } else {
                  http.complete(b);
                }
              });
        }
      }
      if (!roles.contains("frontend") && settings.httpEnabled()) {
        // a worker-only node serves just /health and /ready, for orchestrators' probes
        HttpServer.startProbes(context.getSystem(), settings,
            () -> warmWorkers.get() == engines.size()).whenComplete((b, e) -> {
              if (e != null) {
                http.completeExceptionally(e);
              } else {
                http.complete(b);
              }
            });
      }
      for (int i = 0; i < engines.size(); i++) {
        context.spawn(Worker.create(engines.get(i), warmWorkers::incrementAndGet), "worker-" + i,
            DispatcherSelector.fromConfig("bert-serving-worker-dispatcher"));
      }
      return Behaviors.empty();
    }), SYSTEM_NAME, config);
    system.getWhenTerminated().thenRun(() -> engines.forEach(BertEncoder::close));
    return new BertServer(system, http, metrics);
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** The HTTP binding, once bound (fails if binding failed; never completes with HTTP off). */
  public CompletableFuture<ServerBinding> http() {
    return http;
  }

  public Metrics metrics() {
    return metrics;
  }

  /** Leaves the cluster and stops, letting requests in flight finish (coordinated shutdown). */
  @Override
  public void close() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }
}

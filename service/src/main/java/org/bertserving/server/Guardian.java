package org.bertserving.server;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.client.ClusterClientReceptionist;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.server.Route;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.management.javadsl.AkkaManagement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.bertserving.cluster.ClusterGateway;
import org.bertserving.cluster.Frontend;
import org.bertserving.cluster.FrontendWatch;
import org.bertserving.cluster.Metrics;
import org.bertserving.cluster.NodeWorkers;
import org.bertserving.cluster.Readiness;
import org.bertserving.cluster.ResultChunker;
import org.bertserving.cluster.ServingSettings;
import org.bertserving.cluster.TokenService;
import org.bertserving.cluster.Worker;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.FaultInjector;
import org.bertserving.http.HttpServer;
import org.bertserving.http.HttpSettings;
import org.bertserving.zmq.ZmqDoor;

/**
 * Wires one incarnation of a node: joins (seed nodes, itself, or Cluster Bootstrap), spawns the
 * frontend and the workers its roles ask for, opens its ports. Completes {@code bound} with the
 * ports once every one is open, or fails it naming the port that is not.
 */
final class Guardian {
  private Guardian() {}

  static Behavior<Void> create(
      ServingSettings settings,
      HttpSettings http,
      List<BertEncoder> engines,
      Metrics metrics,
      NodeWorkers workers,
      CompletableFuture<NodePorts> bound,
      Runnable stopNode) {
    return Behaviors.setup(
        context -> {
          Opened opened = new Opened();
          try {
            wire(context, settings, http, engines, metrics, workers, opened, stopNode);
          } catch (RuntimeException e) {
            opened.failed = e;
          }
          opened
              .ports(context.getSystem())
              .whenComplete(
                  (ports, e) -> {
                    if (e == null) {
                      bound.complete(ports);
                    } else {
                      bound.completeExceptionally(
                          e instanceof java.util.concurrent.CompletionException
                                  && e.getCause() != null
                              ? e.getCause()
                              : e);
                    }
                  });
          return Behaviors.empty();
        });
  }

  /** What {@link #wire} opened, or the first port it could not. */
  private static final class Opened {
    CompletionStage<ServerBinding> http = CompletableFuture.completedFuture(null);
    CompletionStage<ServerBinding> management = CompletableFuture.completedFuture(null);
    ZmqDoor zmq;
    RuntimeException failed;

    CompletableFuture<NodePorts> ports(ActorSystem<?> system) {
      if (failed != null) {
        return CompletableFuture.failedFuture(failed);
      }
      return http.thenCombine(
              management,
              (h, m) ->
                  new NodePorts(
                      system.address().getPort().orElse(0),
                      port(h),
                      port(m),
                      zmq == null ? 0 : zmq.port(),
                      zmq == null ? 0 : zmq.portOut()))
          .toCompletableFuture();
    }

    private static int port(ServerBinding binding) {
      return binding == null ? 0 : binding.localAddress().getPort();
    }
  }

  private static void wire(
      ActorContext<Void> context,
      ServingSettings settings,
      HttpSettings http,
      List<BertEncoder> engines,
      Metrics metrics,
      NodeWorkers workers,
      Opened opened,
      Runnable stopNode) {
    ActorSystem<Void> system = context.getSystem();
    Route bootstrapRoutes = null;
    if (settings.bootstrap()) {
      // Akka Management's routes (the contact point) go on our management port
      bootstrapRoutes = AkkaManagement.get(Adapter.toClassic(system)).getRoutes();
      ClusterBootstrap.get(Adapter.toClassic(system)).start();
    } else if (settings.seedNodes().isEmpty()) { // both roles alone, or join-self
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
    Supplier<Readiness> readiness = () -> Readiness.of(settings, metrics, workers, system);
    ActorRef<Frontend.Command> frontend = null;
    if (settings.isFrontend()) {
      frontend = context.spawn(Frontend.create(settings, metrics), "frontend");
      // JVMs next to the cluster reach the service through Akka's cluster client, at
      // /user/bert-gateway with the SDK's wire types; the frontend itself stays internal
      ClusterClientReceptionist.get(Adapter.toClassic(system))
          .registerService(
              Adapter.actorOf(
                  context,
                  ClusterGateway.props(
                      frontend,
                      settings.requestTimeout().plus(ServingSettings.GRACE),
                      settings.frameBytes()),
                  ClusterGateway.NAME));
      ServingSettings.Zmq zmq = settings.zmq();
      if (zmq.enabled()) {
        opened.zmq =
            new ZmqDoor(
                system,
                frontend,
                zmq.iface(),
                zmq.port(),
                zmq.portOut(),
                settings.requestTimeout().plus(ServingSettings.GRACE),
                settings.showTokensToClient(),
                zmq.terminationAllowed(),
                zmq.model(),
                () -> metrics.served,
                stopNode);
        opened.zmq.stopWith(system);
      }
    }
    if (settings.httpEnabled()) {
      opened.http = HttpServer.requests(system, frontend, settings, http, metrics, readiness);
    }
    if (settings.managementEnabled()) {
      List<FaultInjector> faults =
          settings.chaosEnabled() ? engines.stream().map(BertEncoder::faults).toList() : List.of();
      opened.management =
          HttpServer.management(
              system, settings, http, metrics, readiness, faults, bootstrapRoutes);
    }
    // one token service for each model of the node (its engines of one model share one), for
    // /tokenize and /decode (actors keep their path names, tokenizer-N)
    java.util.Set<String> tokenized = new java.util.HashSet<>();
    for (BertEncoder engine : engines) {
      String model = engine.settings().modelName();
      if (tokenized.add(model)) {
        context.spawn(
            TokenService.create(model, engine.featurizer().tokenCodec()),
            "tokenizer-" + tokenized.size(),
            DispatcherSelector.fromConfig("bert-serving-worker-dispatcher"));
      }
    }
    if (!settings.isFrontend() && !settings.rejoinWithoutFrontend().isZero()) {
      context.spawn(FrontendWatch.create(settings.rejoinWithoutFrontend()), "frontend-watch");
    }
    ResultChunker chunker = new ResultChunker(settings.frameBytes());
    for (int i = 0; i < engines.size(); i++) {
      context.spawn(
          Worker.create(engines.get(i), workers, chunker),
          "worker-" + i,
          DispatcherSelector.fromConfig("bert-serving-worker-dispatcher"));
    }
  }
}

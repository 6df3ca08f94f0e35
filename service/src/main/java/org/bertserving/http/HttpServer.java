package org.bertserving.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.settings.ServerSettings;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.bertserving.cluster.Frontend;
import org.bertserving.cluster.Metrics;
import org.bertserving.cluster.ServingSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Binds the routes and, on shutdown, stops taking connections and lets requests in flight finish. */
public final class HttpServer {
  private static final Logger LOG = LoggerFactory.getLogger(HttpServer.class);

  private HttpServer() {}

  /** Only {@code /health} and {@code /ready} (a worker-only node), on the configured port. */
  public static CompletionStage<ServerBinding> startProbes(ActorSystem<?> system,
      ServingSettings settings, java.util.function.BooleanSupplier ready) {
    return bind(system, settings, new Probes(ready).routes());
  }

  public static CompletionStage<ServerBinding> start(ActorSystem<?> system,
      ActorRef<Frontend.Command> frontend, ServingSettings settings, Metrics metrics) {
    return bind(system, settings, new Routes(system, frontend, settings, metrics).routes());
  }

  private static CompletionStage<ServerBinding> bind(ActorSystem<?> system,
      ServingSettings settings, akka.http.javadsl.server.Route route) {
    ServerSettings serverSettings = ServerSettings.create(system.settings().config())
        .withMaxConnections(settings.httpMaxConnections());
    CompletionStage<ServerBinding> binding = Http.get(system)
        .newServerAt(settings.httpInterface(), settings.httpPort())
        .withSettings(serverSettings)
        .bind(route);
    return binding.whenComplete((b, e) -> {
      if (e != null) {
        LOG.error("cannot bind HTTP to {}:{}: {}", settings.httpInterface(), settings.httpPort(),
            e.getMessage());
        system.terminate();
      } else {
        LOG.info("HTTP on {}", b.localAddress());
        b.addToCoordinatedShutdown(settings.requestTimeout().plus(Duration.ofSeconds(5)), system);
      }
    });
  }
}

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

  public static CompletionStage<ServerBinding> start(ActorSystem<?> system,
      ActorRef<Frontend.Command> frontend, ServingSettings settings, Metrics metrics) {
    ServerSettings serverSettings = ServerSettings.create(system.settings().config())
        .withMaxConnections(settings.httpMaxConnections());
    CompletionStage<ServerBinding> binding = Http.get(system)
        .newServerAt(settings.httpInterface(), settings.httpPort())
        .withSettings(serverSettings)
        .bind(new Routes(system, frontend, settings, metrics).routes());
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

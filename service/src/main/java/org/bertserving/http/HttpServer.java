package org.bertserving.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.ConnectionContext;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.ServerBuilder;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.settings.ServerSettings;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.bertserving.cluster.Frontend;
import org.bertserving.cluster.Metrics;
import org.bertserving.cluster.Readiness;
import org.bertserving.cluster.ServingSettings;
import org.bertserving.engine.FaultInjector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds routes; on shutdown, stops taking connections and lets requests in flight finish. The
 * request and idle timeouts come from the config that {@code BertServer} derived from the one
 * request timeout. A port that cannot be bound fails the returned stage, naming the address.
 */
public final class HttpServer {
  private static final Logger LOG = LoggerFactory.getLogger(HttpServer.class);

  /** Probes and scrapers: a few at a time. */
  private static final int MANAGEMENT_CONNECTIONS = 256;

  private HttpServer() {}

  /**
   * The request port: the API on a frontend, the probes on a worker-only node; HTTPS with {@code
   * -tls_cert}/{@code -tls_key}.
   */
  public static CompletionStage<ServerBinding> requests(
      ActorSystem<?> system,
      ActorRef<Frontend.Command> frontend,
      ServingSettings settings,
      HttpSettings http,
      Metrics metrics,
      Supplier<Readiness> readiness) {
    return bind(
        system,
        settings,
        new Routes(system, frontend, settings, http, metrics, readiness).routes(),
        http.https() ? "HTTPS" : "HTTP",
        settings.httpInterface(),
        settings.httpPort(),
        settings.httpMaxConnections(),
        http.tls());
  }

  /**
   * The management port: probes, metrics, Cluster Bootstrap's routes, chaos switches; plain HTTP
   * (orchestrators' probes and scrapers), only {@code /chaos} needs the API key.
   */
  public static CompletionStage<ServerBinding> management(
      ActorSystem<?> system,
      ServingSettings settings,
      HttpSettings http,
      Metrics metrics,
      Supplier<Readiness> readiness,
      List<FaultInjector> faults,
      Route bootstrap) {
    return bind(
        system,
        settings,
        new ManagementRoutes(readiness, metrics, faults, bootstrap, http.apiKeys()).routes(),
        "management",
        settings.managementInterface(),
        settings.managementPort(),
        MANAGEMENT_CONNECTIONS,
        null);
  }

  /**
   * @param what what the port serves, for the log and the error ("HTTP", "management")
   * @param tls the HTTPS context, or {@code null} for plain HTTP
   */
  private static CompletionStage<ServerBinding> bind(
      ActorSystem<?> system,
      ServingSettings settings,
      Route route,
      String what,
      String iface,
      int port,
      int maxConnections,
      SSLContext tls) {
    ServerSettings serverSettings =
        ServerSettings.create(system.settings().config()).withMaxConnections(maxConnections);
    ServerBuilder server = Http.get(system).newServerAt(iface, port).withSettings(serverSettings);
    if (tls != null) {
      server = server.enableHttps(ConnectionContext.httpsServer(tls));
    }
    return server
        .bind(route)
        .handle(
            (binding, e) -> {
              if (e != null) {
                throw new IllegalStateException(
                    "cannot bind " + what + " to " + iface + ":" + port + ": " + e.getMessage(), e);
              }
              LOG.info("{} on {}", what, binding.localAddress());
              binding.addToCoordinatedShutdown(
                  settings.requestTimeout().plus(ServingSettings.GRACE), system);
              return binding;
            });
  }
}

package org.bertserving.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.cluster.Frontend;
import org.bertserving.cluster.Metrics;
import org.bertserving.cluster.ServedModels;
import org.bertserving.cluster.ServingSettings;
import org.bertserving.cluster.TokenService;

/** What the route families share: the frontend and the token services to ask, settings, errors. */
final class Api {
  final ActorSystem<?> system;
  final ServingSettings settings;
  final HttpSettings http;
  final Errors errors;
  final Body body;
  private final Metrics metrics;
  private final ActorRef<Frontend.Command> frontend;
  private final Duration askTimeout;

  Api(
      ActorSystem<?> system,
      ActorRef<Frontend.Command> frontend,
      ServingSettings settings,
      HttpSettings http,
      Metrics metrics,
      Errors errors) {
    this.system = system;
    this.frontend = frontend;
    this.settings = settings;
    this.http = http;
    this.metrics = metrics;
    this.errors = errors;
    this.body = new Body(http, errors);
    // the frontend answers every request by its own timeout; this only guards against a lost actor
    this.askTimeout = settings.requestTimeout().plus(ServingSettings.GRACE);
  }

  /** The outcome, completed in the thread that answered: rendering chained on it runs there. */
  CompletableFuture<EncodeOutcome> encode(EncodeRequest request) {
    return org.bertserving.cluster.FrontendAsk.encode(frontend, request, askTimeout, system);
  }

  /** Asks a token service of {@code model} ({@code null}: any model's). */
  CompletionStage<TokenService.Reply> askTokenService(
      String model, Function<ActorRef<TokenService.Reply>, TokenService.Command> request) {
    return TokenService.ask(system, model, request, ServingSettings.GRACE.multipliedBy(2));
  }

  ActorRef<Frontend.Command> frontend() {
    return frontend;
  }

  /** The models the cluster serves, as this node's frontend last heard them from its workers. */
  ServedModels served() {
    return metrics.served;
  }
}

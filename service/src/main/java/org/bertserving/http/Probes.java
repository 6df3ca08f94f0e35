package org.bertserving.http;

import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import java.util.Map;
import java.util.function.Supplier;
import org.bertserving.cluster.Metrics;
import org.bertserving.cluster.Readiness;

/**
 * {@code /health}, {@code /ready} and {@code /metrics}, as the request port and the management port
 * serve them: open to all (no API key), as text-embeddings-inference keeps them.
 */
final class Probes {
  private static final AllDirectives D = new AllDirectives() {};

  private Probes() {}

  /**
   * {@code /health} (and {@code /ping}, TEI's name of it for SageMaker and Vertex AI): 200 while
   * the process is up, on every port (liveness; whether the node can serve is {@code /ready}).
   */
  static Route all(Supplier<Readiness> readiness, Metrics metrics) {
    return D.concat(
        D.path(
            PathMatchers.segment("health").orElse(PathMatchers.segment("ping")),
            () -> getOrHead(() -> D.complete(healthy()))),
        ready(readiness),
        D.path("metrics", () -> getOrHead(() -> D.complete(PrometheusText.response(metrics)))));
  }

  static akka.http.javadsl.model.HttpResponse healthy() {
    return Json.response(200, Map.of("status", "ok"));
  }

  /** 200 while the node can do its part ({@link Readiness}), else 503 saying why. */
  static Route ready(Supplier<Readiness> readiness) {
    return D.path(
        "ready",
        () ->
            getOrHead(
                () -> {
                  Readiness r = readiness.get();
                  return D.complete(
                      r.ready()
                          ? Json.response(200, Map.of("ready", true, "reason", r.reason()))
                          : Errors.render(Dialect.BERT, ApiError.of(503, "not_ready", r.reason())));
                }));
  }

  /** GET, and HEAD as orchestrators' probes may send it. */
  static Route getOrHead(Supplier<Route> inner) {
    return D.concat(D.get(inner), D.head(inner));
  }
}

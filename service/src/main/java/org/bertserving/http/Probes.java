package org.bertserving.http;

import akka.http.javadsl.server.AllDirectives;
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

  /** The management port's, and a worker node's: {@code /health} says the process is up. */
  static Route all(Supplier<Readiness> readiness, Metrics metrics) {
    return all(readiness, metrics, Probes::healthy);
  }

  /** As {@link #all(Supplier, Metrics)}, {@code /health} answered by {@code health}. */
  static Route all(
      Supplier<Readiness> readiness,
      Metrics metrics,
      Supplier<akka.http.javadsl.model.HttpResponse> health) {
    return D.concat(
        // /ping: TEI's name of it for SageMaker and Vertex AI
        D.path(
            akka.http.javadsl.server.PathMatchers.segment("health")
                .orElse(akka.http.javadsl.server.PathMatchers.segment("ping")),
            () -> getOrHead(() -> D.complete(health.get()))),
        ready(readiness),
        D.path("metrics", () -> getOrHead(() -> D.complete(PrometheusText.response(metrics)))));
  }

  static akka.http.javadsl.model.HttpResponse healthy() {
    return Json.response(200, Map.of("status", "ok"));
  }

  /**
   * text-embeddings-inference's {@code /health} (and {@code GET /}), as a frontend's request port
   * answers it: 200 while it can serve, else TEI's 503 {@code Unhealthy} saying why, as TEI answers
   * while its model cannot. Liveness is the management port's {@code /health}.
   */
  static akka.http.javadsl.model.HttpResponse servable(Supplier<Readiness> readiness) {
    Readiness r = readiness.get();
    return r.ready()
        ? healthy()
        : Errors.render(Dialect.TEI, ApiError.of(503, "not_ready", r.reason()));
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

package org.bertserving.http;

import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.bertserving.cluster.Metrics;
import org.bertserving.cluster.Readiness;
import org.bertserving.engine.FaultInjector;

/**
 * The management port: liveness, readiness and metrics for orchestrators and Prometheus, on a port
 * of their own so that they answer whatever the request port is doing (1,000 idle connections, a
 * burst); Cluster Bootstrap's contact point when bootstrap is on; and, only with {@code
 * bert-serving.chaos.enabled}, the fault switches of chaos runs.
 */
final class ManagementRoutes extends AllDirectives {
  private final Supplier<Readiness> readiness;
  private final Metrics metrics;
  private final List<FaultInjector> faults;
  private final Route extra;
  private final ApiKeys apiKeys;
  private final Errors errors;

  /**
   * @param faults the engines' fault switches, or an empty list when chaos is off
   * @param extra more routes (Akka Management's, for Cluster Bootstrap), or {@code null}
   * @param apiKeys the keys {@code /chaos} needs (the probes and metrics need none; Cluster
   *     Bootstrap's contact point is asked by the other nodes, which have none)
   */
  ManagementRoutes(
      Supplier<Readiness> readiness,
      Metrics metrics,
      List<FaultInjector> faults,
      Route extra,
      ApiKeys apiKeys) {
    this.readiness = readiness;
    this.metrics = metrics;
    this.faults = faults;
    this.extra = extra;
    this.apiKeys = apiKeys;
    this.errors = new Errors(metrics);
  }

  Route routes() {
    Route own =
        concat(
            Probes.all(readiness, metrics),
            pathPrefix("chaos", () -> apiKeys.require(errors, this::chaos)));
    Route all = extra == null ? own : concat(own, extra);
    return handleRejections(errors.rejections(Dialect.BERT), () -> all);
  }

  private Route chaos() {
    if (faults.isEmpty()) {
      return reject();
    }
    return post(
        () ->
            concat(
                path(
                    "fail",
                    () ->
                        parameter(
                            "runs", runs -> arm(f -> f.failNextRuns(Integer.parseInt(runs))))),
                path(
                    "crash",
                    () ->
                        concat(
                            parameter(
                                "deliveries",
                                n -> arm(f -> f.failNextDeliveries(Integer.parseInt(n)))),
                            parameter(
                                "preparations",
                                n -> arm(f -> f.failNextPreparations(Integer.parseInt(n)))))),
                path("poison", () -> parameter("text", text -> arm(f -> f.poison(text)))),
                path("delay", () -> parameter("ms", ms -> arm(f -> f.delay(Long.parseLong(ms))))),
                path("reset", () -> arm(FaultInjector::reset))));
  }

  private Route arm(java.util.function.Consumer<FaultInjector> fault) {
    try {
      faults.forEach(fault);
    } catch (NumberFormatException e) {
      return errors.complete(
          Dialect.BERT, ApiError.of(400, "invalid_input", "not a number: " + e.getMessage()));
    }
    return complete(Json.response(200, Map.of("armed", true, "engines", faults.size())));
  }
}

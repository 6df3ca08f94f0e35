package org.bertserving.http;

import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import java.util.Map;
import java.util.function.Supplier;
import org.bertserving.cluster.Readiness;

/** {@code /health} and {@code /ready}, as the request port and the management port serve them. */
final class Probes {
  private static final AllDirectives D = new AllDirectives() {};

  private Probes() {}

  /** 200 while the process is up. */
  static Route health() {
    return D.path("health", () -> getOrHead(() -> D.complete(Routes.json(200, Map.of("status", "ok")))));
  }

  /** 200 while the node can do its part ({@link Readiness}), else 503 saying why. */
  static Route ready(Supplier<Readiness> readiness) {
    return D.path("ready", () -> getOrHead(() -> {
      Readiness r = readiness.get();
      return D.complete(r.ready() ? Routes.json(200, Map.of("ready", true, "reason", r.reason()))
          : Errors.response(503, "not_ready", r.reason()));
    }));
  }

  /** GET, and HEAD as orchestrators' probes may send it. */
  static Route getOrHead(Supplier<Route> inner) {
    return D.concat(D.get(inner), D.head(inner));
  }
}

package org.bertserving.http;

import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** The routes of a worker-only node: liveness and readiness for orchestrators, nothing else. */
final class Probes extends AllDirectives {
  private final BooleanSupplier ready;

  Probes(BooleanSupplier ready) {
    this.ready = ready;
  }

  Route routes() {
    return handleRejections(Errors.rejectionHandler(), () -> concat(
        path("health", () -> get(() -> complete(Routes.json(200, Map.of("status", "ok"))))),
        path("ready", () -> get(() -> complete(ready.getAsBoolean()
            ? Routes.json(200, Map.of("ready", true))
            : Errors.response(503, "warming_up", "the workers of this node are not ready yet")))),
        pathPrefix("encode", () -> complete(Errors.response(404, "not_found",
            "this node is a worker: send requests to a frontend")))));
  }
}

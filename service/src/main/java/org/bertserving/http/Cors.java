package org.bertserving.http;

import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import java.util.List;

/** CORS headers from {@code -cors} (bert-as-service's default is "*"); "" turns them off. */
final class Cors extends AllDirectives {
  private final String origin;

  private Cors(String origin) {
    this.origin = origin;
  }

  static Route wrap(String origin, Route inner) {
    return origin == null || origin.isBlank() ? inner : new Cors(origin).route(inner);
  }

  private Route route(Route inner) {
    List<akka.http.javadsl.model.HttpHeader> headers = List.of(
        RawHeader.create("Access-Control-Allow-Origin", origin),
        RawHeader.create("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
        RawHeader.create("Access-Control-Allow-Headers", "Content-Type, Accept, Accept-Encoding"));
    return respondWithHeaders(headers, () -> concat(
        options(() -> complete(HttpResponse.create().withStatus(204))),
        inner));
  }
}

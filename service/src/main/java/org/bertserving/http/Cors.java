package org.bertserving.http;

import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * CORS for the origins {@code -cors} names, none by default: a page of another origin may call this
 * server from a browser only when asked for ({@code "*"} must be written out). The preflight allows
 * {@code Authorization} (the API key), {@code Content-Type: application/json} and whatever other
 * headers the named origin's page asks for (the OpenAI SDK for JavaScript sends {@code
 * X-Stainless-*} headers on every call, which a fixed list made the browser refuse); a foreign
 * origin's preflight gets 403 and its other requests no CORS headers, so its page cannot read the
 * answers.
 */
final class Cors extends AllDirectives {
  private static final String METHODS = "GET, HEAD, POST, OPTIONS";
  private static final String HEADERS = "Authorization, Content-Type, Accept, Accept-Encoding";

  private final List<String> origins;
  private final Errors errors;

  Cors(List<String> origins, Errors errors) {
    this.origins = origins;
    this.errors = errors;
  }

  Route wrap(Route inner) {
    if (origins.isEmpty()) {
      return inner;
    }
    return optionalHeaderValueByName(
        "Origin",
        origin -> {
          if (origin.isEmpty()) {
            return inner;
          }
          boolean allowed = origins.contains("*") || origins.contains(origin.get());
          return extractRequest(
              request -> {
                boolean preflight =
                    request.method().equals(HttpMethods.OPTIONS)
                        && request.getHeader("Access-Control-Request-Method").isPresent();
                if (!allowed) {
                  return preflight
                      ? extractUri(
                          uri ->
                              errors.complete(
                                  Dialect.of(uri.path()),
                                  ApiError.of(
                                      403,
                                      "origin_not_allowed",
                                      "origin " + origin.get() + " is not one of -cors")))
                      : inner;
                }
                List<HttpHeader> headers = headers(origin.get());
                if (preflight) {
                  headers.add(RawHeader.create("Access-Control-Allow-Methods", METHODS));
                  headers.add(
                      RawHeader.create(
                          "Access-Control-Allow-Headers",
                          allowedHeaders(
                              request
                                  .getHeader("Access-Control-Request-Headers")
                                  .map(HttpHeader::value)
                                  .orElse(""))));
                  headers.add(RawHeader.create("Access-Control-Max-Age", "600"));
                  // the allowed headers follow the asked ones: a cache keeps one answer per list
                  headers.add(
                      RawHeader.create(
                          "Vary", "Access-Control-Request-Headers, Access-Control-Request-Method"));
                  return complete(HttpResponse.create().withStatus(204).addHeaders(headers));
                }
                return respondWithHeaders(headers, () -> inner);
              });
        });
  }

  /** {@link #HEADERS} and each header of {@code requested} (a comma-separated list) beside them. */
  static String allowedHeaders(String requested) {
    Set<String> known = new HashSet<>();
    for (String header : HEADERS.split(",")) {
      known.add(header.strip().toLowerCase(Locale.ROOT));
    }
    StringBuilder allowed = new StringBuilder(HEADERS);
    for (String header : requested.split(",")) {
      String name = header.strip();
      if (!name.isEmpty() && known.add(name.toLowerCase(Locale.ROOT))) {
        allowed.append(", ").append(name);
      }
    }
    return allowed.toString();
  }

  private List<HttpHeader> headers(String origin) {
    List<HttpHeader> headers = new ArrayList<>();
    headers.add(
        RawHeader.create("Access-Control-Allow-Origin", origins.contains("*") ? "*" : origin));
    headers.add(RawHeader.create("Vary", "Origin"));
    // a browser client reads Retry-After to back off on 429
    headers.add(RawHeader.create("Access-Control-Expose-Headers", "Retry-After"));
    return headers;
  }
}

package org.bertserving.http;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import java.util.List;

/**
 * {@code GET /} in a browser: a live status page (plain HTML, JS and CSS from the jar, no build
 * step, no CDN) that reads {@code /status/server} and {@code /metrics}. Any other client gets what
 * text-embeddings-inference answers on {@code GET /}: health. The page and its files hold no data,
 * so they need no API key; the page asks for one when {@code /status/server} does.
 */
final class StatusPage extends AllDirectives {
  private static final String DIR = "org/bertserving/http/ui";

  Route routes() {
    Route page = getFromResource(DIR + "/index.html", ContentTypes.TEXT_HTML_UTF8);
    return respondWithHeaders(
        List.of(
            RawHeader.create("Content-Security-Policy", "default-src 'self'; img-src 'self' data:"),
            RawHeader.create("X-Content-Type-Options", "nosniff"),
            RawHeader.create("Cache-Control", "no-cache")),
        () ->
            concat(
                pathSingleSlash(
                    () ->
                        Probes.getOrHead(
                            () ->
                                optionalHeaderValueByName(
                                    "Accept",
                                    accept ->
                                        accept.orElse("").contains("text/html")
                                            ? page
                                            : complete(Probes.healthy())))),
                pathPrefix("ui", () -> get(() -> getFromResourceDirectory(DIR)))));
  }
}

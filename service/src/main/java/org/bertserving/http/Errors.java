package org.bertserving.http;

import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.MethodRejection;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.scaladsl.model.EntityStreamSizeException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bertserving.client.protocol.EncodeFailure;

/** Every error as JSON {@code {"status", "type", "description"}}, mapped in this one place. */
final class Errors {
  private Errors() {}

  static HttpResponse response(int status, String type, String description) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", status);
    body.put("type", type);
    body.put("description", description);
    return Routes.json(status, body);
  }

  static HttpResponse response(EncodeFailure failure) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("id", failure.id());
    body.put("status", failure.status());
    body.put("type", failure.type());
    body.put("description", failure.description());
    return Routes.withRetryAfter(Routes.json(failure.status(), body), failure.retryAfterSeconds());
  }

  static RejectionHandler rejectionHandler() {
    return RejectionHandler.newBuilder()
        .handleAll(MethodRejection.class, rejections -> completeWith(response(405,
            "method_not_allowed", "use " + rejections.get(0).supported().name())))
        .handleNotFound(completeWith(response(404, "not_found",
            "no such route; try POST /encode, POST /v1/embeddings, GET /status/server")))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(r -> r.entity().getContentType().equals(
            akka.http.javadsl.model.ContentTypes.APPLICATION_JSON) ? r
            : response(r.status().intValue(), type(r.status().intValue()), text(r)));
  }

  static ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder()
        .match(EntityStreamSizeException.class, e -> completeWith(response(413, "too_large",
            "request body over " + e.limit() + " bytes (bert-serving.http.max-body-bytes)")))
        .matchAny(e -> completeWith(response(500, "internal_error", String.valueOf(e.getMessage()))))
        .build();
  }

  private static String type(int status) {
    switch (status) {
      case 413:
        return "too_large";
      case 404:
        return "not_found";
      case 405:
        return "method_not_allowed";
      case 415:
        return "unsupported_media_type";
      default:
        return status < 500 ? "bad_request" : "internal_error";
    }
  }

  private static String text(HttpResponse r) {
    return r.entity() instanceof akka.http.javadsl.model.HttpEntity.Strict strict
        ? strict.getData().utf8String() : r.status().reason();
  }

  private static akka.http.javadsl.server.Route completeWith(HttpResponse response) {
    return new akka.http.javadsl.server.AllDirectives() {}.complete(response);
  }
}

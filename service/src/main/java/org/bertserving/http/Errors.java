package org.bertserving.http;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.MethodRejection;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.javadsl.server.Route;
import akka.http.scaladsl.model.EntityStreamSizeException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.bertserving.cluster.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every error answer, in the shape of its route family, mapped in this one place: bert-as-service's
 * {@code {"status", "type", "description"}}, OpenAI's {@code {"error": {"message", "type", "param",
 * "code"}}} on {@code /v1}, and text-embeddings-inference's {@code {"error", "error_type"}} with
 * its status codes (as TEI 1.8 answers: a validation error is 413). Errors made by the HTTP layer
 * itself (404, 405, 413, 415, 401, invalid JSON, ...) are counted in {@code /metrics} here; the
 * frontend counts its own.
 */
final class Errors extends AllDirectives {
  private static final Logger LOG = LoggerFactory.getLogger(Errors.class);

  private final Metrics metrics;
  private final Map<Dialect, RejectionHandler> rejections = new java.util.EnumMap<>(Dialect.class);
  private final Map<Dialect, ExceptionHandler> exceptions = new java.util.EnumMap<>(Dialect.class);

  Errors(Metrics metrics) {
    this.metrics = metrics;
    for (Dialect dialect : Dialect.values()) {
      rejections.put(dialect, rejectionHandler(dialect));
      exceptions.put(dialect, exceptionHandler(dialect));
    }
  }

  /**
   * An error the HTTP layer made: answered, and counted when it is (not when the route is built).
   */
  Route complete(Dialect dialect, ApiError error) {
    return extractRequest(request -> complete(made(dialect, error)));
  }

  HttpResponse made(Dialect dialect, ApiError error) {
    HttpResponse response = render(dialect, error);
    metrics.reply(response.status().intValue());
    return response;
  }

  /** An error in {@code dialect}'s shape, not counted (the frontend counted its own). */
  static HttpResponse render(Dialect dialect, ApiError e) {
    HttpResponse response =
        switch (dialect) {
          case BERT -> bert(e);
          case OPENAI -> openAi(e);
          case TEI -> tei(e);
        };
    if (e.retryAfterSeconds() > 0) {
      response =
          response.addHeader(
              RawHeader.create("Retry-After", String.valueOf(e.retryAfterSeconds())));
    }
    if (e.status() == 401) {
      response =
          response.addHeader(
              RawHeader.create(
                  "WWW-Authenticate",
                  "Bearer realm=\"bert-serving\""
                      + (e.type().equals("invalid_api_key") ? ", error=\"invalid_token\"" : "")));
    }
    return response;
  }

  private static HttpResponse bert(ApiError e) {
    return Json.response(e.status(), e.answer());
  }

  /** OpenAI's shape; its SDKs pick the exception by status, people read message and code. */
  private static HttpResponse openAi(ApiError e) {
    String type =
        e.status() >= 500
            ? "server_error"
            : e.status() == 429 ? "requests" : "invalid_request_error";
    String code =
        switch (e.status()) {
          case 401 -> "invalid_api_key";
          case 429 -> "rate_limit_exceeded";
          default -> e.type();
        };
    Map<String, Object> error = new LinkedHashMap<>();
    error.put("message", e.message());
    error.put("type", type);
    error.put("param", e.param());
    error.put("code", code);
    return Json.response(e.status(), Map.of("error", error));
  }

  /**
   * text-embeddings-inference's error types and their statuses: Empty 400, Validation 413 (a field
   * of the wrong shape 422, as its JSON extractor answers), Overloaded 429, Backend 424, Unhealthy
   * 503, named as TEI's answers name them (its enum's variant names, as serde writes them; its
   * OpenAPI examples write them in lower case, its server does not). Errors TEI has no type for
   * keep their status and our type.
   */
  private static HttpResponse tei(ApiError e) {
    String type;
    int status;
    switch (e.type()) {
      case "empty" -> {
        type = "Empty";
        status = 400;
      }
      case "invalid_input", "too_large", "validation" -> {
        type = "Validation";
        status = e.param() != null ? 422 : e.status() == 422 ? 422 : 413;
      }
      case "invalid_json" -> {
        type = "Validation";
        status = 400;
      }
      case "overloaded" -> {
        type = "Overloaded";
        status = 429;
      }
      case "engine_error", "unsupported", "backend" -> {
        type = "Backend";
        status = 424;
      }
      case "no_worker", "not_ready" -> {
        type = "Unhealthy";
        status = 503;
      }
      case "timeout" -> {
        type = "Backend";
        status = e.status();
      }
      default -> {
        type = e.type();
        status = e.status();
      }
    }
    String message =
        type.equals("Validation") || type.equals("Empty")
            ? "Input validation error: " + e.message()
            : e.message();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", message);
    body.put("error_type", type);
    return Json.response(status, body);
  }

  /** Akka's rejections (no route, wrong method, ...) in {@code dialect}'s shape; 405 says Allow. */
  RejectionHandler rejections(Dialect dialect) {
    return rejections.get(dialect);
  }

  ExceptionHandler exceptions(Dialect dialect) {
    return exceptions.get(dialect);
  }

  private RejectionHandler rejectionHandler(Dialect dialect) {
    return RejectionHandler.newBuilder()
        .handleAll(
            MethodRejection.class,
            rejections -> {
              String allow =
                  rejections.stream()
                      .map(r -> r.supported().name())
                      .distinct()
                      .collect(Collectors.joining(", "));
              return complete(
                  made(dialect, ApiError.of(405, "method_not_allowed", "use " + allow))
                      .addHeader(RawHeader.create("Allow", allow)));
            })
        .handleNotFound(
            complete(
                dialect,
                ApiError.of(
                    404,
                    "not_found",
                    "no such route; try "
                        + "POST /encode, POST /v1/embeddings, POST /embed, GET /status/server")))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(
            r ->
                r.entity().getContentType().equals(ContentTypes.APPLICATION_JSON)
                    ? r
                    : made(
                        dialect,
                        ApiError.of(r.status().intValue(), type(r.status().intValue()), text(r))));
  }

  private ExceptionHandler exceptionHandler(Dialect dialect) {
    return ExceptionHandler.newBuilder()
        .match(EntityStreamSizeException.class, e -> complete(dialect, tooLarge(e.limit())))
        .matchAny(
            e -> {
              LOG.error("answering 500", e);
              return complete(
                  dialect,
                  ApiError.of(
                      500, "internal_error", "internal error; the server's log has the details"));
            })
        .build();
  }

  /** The 413 of a body over the limit, naming the limit and the key that sets it. */
  static ApiError tooLarge(long limit) {
    return ApiError.of(
        413,
        "too_large",
        "request body is over "
            + limit
            + " bytes, the limit "
            + "(bert-serving.http.max-body-bytes)");
  }

  private static String type(int status) {
    return switch (status) {
      case 413 -> "too_large";
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 415 -> "unsupported_media_type";
      default -> status < 500 ? "bad_request" : "internal_error";
    };
  }

  private static String text(HttpResponse r) {
    return r.entity() instanceof HttpEntity.Strict strict
        ? strict.getData().utf8String()
        : r.status().reason();
  }
}

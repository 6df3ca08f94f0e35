package org.bertserving.http;

import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.model.headers.Connection;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.stream.Materializer;
import akka.stream.javadsl.Sink;
import akka.util.ByteString;
import akka.util.ByteStringBuilder;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The JSON body of a request, or the error why there is none: 415 unless the body is {@code
 * application/json} (so that a browser cannot post it from a foreign page without CORS's consent),
 * 413 over {@code max-body-bytes}, 400 for invalid JSON, each in the route family's shape and
 * without the internals of the libraries that found it. A body over the limit is still read and
 * thrown away (up to {@code drain-bytes}): Python's urllib and requests send the whole body before
 * they read, and an answer sent while they write reaches them as a broken pipe.
 */
final class Body extends AllDirectives {
  /**
   * One JSON value and nothing after it but whitespace: {@code {...}{...}} is refused whole; so is
   * a field given twice in one object (which one counts is no parser's to guess).
   */
  private static final ObjectReader WHOLE =
      Json.MAPPER
          .reader()
          .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .with(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final HttpSettings settings;
  private final Errors errors;

  Body(HttpSettings settings, Errors errors) {
    this.settings = settings;
    this.errors = errors;
  }

  /** What was read: the bytes kept (up to the limit) and the size of the whole body. */
  private record Read(ByteString kept, long total) {}

  Route json(Dialect dialect, Function<JsonNode, Route> handler) {
    return extractRequestEntity(
        entity -> {
          boolean isJson = entity.getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON);
          long declared = entity.getContentLengthOption().orElse(-1);
          if (declared > settings.drainBytes()) {
            // too much to read away: answer now, and say the connection ends
            return respondWithHeader(
                Connection.create("close"),
                () -> errors.complete(dialect, Errors.tooLarge(settings.maxBodyBytes())));
          }
          long keep = isJson ? settings.maxBodyBytes() : 0;
          if (entity.isStrict()) {
            // the body came whole with the headers (a small request usually does): no stream to
            // run, which saved an 8-token query about 1 ms here
            ByteString data = ((HttpEntity.Strict) entity).getData();
            return answer(dialect, entity, isJson, new Read(data, data.size()), keep, handler);
          }
          return extractMaterializer(
              materializer ->
                  onComplete(
                      read(entity, keep, materializer),
                      result ->
                          result.isFailure()
                              ? errors.complete(
                                  dialect,
                                  result.failed().get() instanceof EntityStreamSizeException
                                      ? Errors.tooLarge(settings.maxBodyBytes())
                                      : ApiError.of(
                                          400,
                                          "invalid_json",
                                          "the request body could not be read"))
                              : answer(dialect, entity, isJson, result.get(), keep, handler)));
        });
  }

  /** The answer to a body read whole: too large, not JSON, or what the handler makes of it. */
  private Route answer(
      Dialect dialect,
      HttpEntity entity,
      boolean isJson,
      Read read,
      long keep,
      Function<JsonNode, Route> handler) {
    if (read.total() > keep && isJson) {
      Route tooLarge = errors.complete(dialect, Errors.tooLarge(settings.maxBodyBytes()));
      return read.total() > settings.drainBytes()
          ? respondWithHeader(Connection.create("close"), () -> tooLarge)
          : tooLarge;
    }
    if (!isJson) {
      return errors.complete(
          dialect,
          ApiError.of(
              415,
              "unsupported_media_type",
              "Content-Type must be application/json, not "
                  + entity.getContentType()
                  + " (send the header Content-Type: application/json)"));
    }
    return parsed(dialect, read.kept(), handler);
  }

  private Route parsed(Dialect dialect, ByteString bytes, Function<JsonNode, Route> handler) {
    JsonNode node;
    try {
      node = WHOLE.readTree(bytes.toArray());
    } catch (JsonProcessingException e) {
      return errors.complete(dialect, ApiError.of(400, "invalid_json", problem(e)));
    } catch (java.io.IOException e) {
      return errors.complete(dialect, ApiError.of(400, "invalid_json", "body is not valid JSON"));
    }
    if (node == null || node.isMissingNode()) {
      return errors.complete(
          dialect, ApiError.of(400, "invalid_json", "body is empty: expected a JSON object"));
    }
    if (!node.isObject()) {
      return errors.complete(
          dialect, ApiError.of(400, "invalid_json", "body must be a JSON object"));
    }
    try {
      return handler.apply(node);
    } catch (Fields.BadField e) {
      return errors.complete(dialect, ApiError.field(e.field(), e.getMessage()));
    }
  }

  /** Where the JSON went wrong, in words of our own (Jackson's name its classes and settings). */
  private static String problem(JsonProcessingException e) {
    JsonLocation at = e.getLocation();
    String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    String original = e.getOriginalMessage();
    if (original != null && original.startsWith("Duplicate field ")) {
      return "body is not valid JSON: the field "
          + original.substring("Duplicate field ".length())
          + " is given twice"
          + where;
    }
    return e instanceof JsonEOFException
        ? "body is not valid JSON: it ends before the JSON is complete" + where
        : "body is not valid JSON: unexpected text" + where;
  }

  /**
   * Reads the body, keeping at most {@code keep} bytes and reading on (throwing away) up to {@code
   * drain-bytes}; past that it stops reading, and the connection will be closed.
   */
  private CompletionStage<Read> read(HttpEntity entity, long keep, Materializer materializer) {
    long[] total = {0};
    ByteStringBuilder kept = ByteString.createBuilder();
    long drain = settings.drainBytes();
    return entity
        .withoutSizeLimit()
        .getDataBytes()
        .takeWhile(
            chunk -> {
              total[0] += chunk.size();
              if (total[0] <= keep) {
                kept.append(chunk);
              }
              return total[0] <= drain;
            },
            true)
        .runWith(Sink.ignore(), materializer)
        .thenApplyAsync(done -> new Read(kept.result(), total[0]), materializer.executionContext());
  }
}

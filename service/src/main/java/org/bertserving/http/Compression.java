package org.bertserving.http;

import akka.http.javadsl.coding.Coder;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.AcceptEncoding;
import akka.http.javadsl.model.headers.ContentEncoding;
import akka.http.javadsl.model.headers.HttpEncodingRange;
import akka.http.javadsl.model.headers.HttpEncodings;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.util.ByteString;
import akka.util.ByteStringBuilder;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.function.Supplier;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * gzip for the answers of a client that accepts it. An answer already whole in memory (every JSON
 * answer here) of up to {@link #AT_ONCE_BYTES} is compressed at once in the route: akka-http's
 * {@code encodeResponse} turns it into a chunked stream and compresses it in a stream stage of its
 * own, which cost one 8-token query about 1 ms here; at once it takes a fraction of that. At the
 * fastest level, as nginx's default: one vector's JSON shrank to 48% at level 1 and to 45% at level
 * 6, which took four times as long. Larger answers and streamed ones (the status page's files) go
 * through akka-http's streaming gzip, which never holds a second copy of the whole answer. Answers
 * under {@link #MIN_BYTES} (errors, probes) and types that do not compress stay as they are.
 */
final class Compression extends AllDirectives {
  static final int MIN_BYTES = 1024;
  private static final int AT_ONCE_BYTES = 1 << 20;
  private static final RawHeader VARY = RawHeader.create("Vary", "Accept-Encoding");

  Route gzip(Supplier<Route> inner) {
    return extractRequest(
        request ->
            acceptsGzip(request)
                ? mapResponse(Compression::compressed, inner)
                : mapResponse(Compression::varies, inner));
  }

  /**
   * Whether the request's Accept-Encoding (all of its headers) allows gzip: named, or by {@code *},
   * with q > 0; a named gzip outranks {@code *}.
   */
  static boolean acceptsGzip(HttpRequest request) {
    float named = -1;
    float wildcard = -1;
    for (HttpHeader header : request.getHeaders()) {
      if (!(header instanceof AcceptEncoding accept)) {
        continue;
      }
      for (HttpEncodingRange range : accept.getEncodings()) {
        if (!range.matches(HttpEncodings.GZIP)) {
          continue;
        }
        if (range.matches(HttpEncodings.IDENTITY)) { // "*"
          wildcard = Math.max(wildcard, range.qValue());
        } else {
          named = Math.max(named, range.qValue());
        }
      }
    }
    return (named >= 0 ? named : wildcard) > 0;
  }

  private static HttpResponse compressed(HttpResponse response) {
    if (!worthIt(response) || response.getHeader(ContentEncoding.class).isPresent()) {
      return varies(response);
    }
    HttpEntity entity = response.entity();
    if (!entity.isStrict() || entity.getContentLengthOption().orElse(0) > AT_ONCE_BYTES) {
      return Coder.Gzip.encodeMessage(response).addHeader(VARY);
    }
    ByteString plain = ((HttpEntity.Strict) entity).getData();
    ByteStringBuilder out = ByteString.createBuilder();
    try (OutputStream sink = out.asOutputStream();
        GZIPOutputStream gzip =
            new GZIPOutputStream(sink, 8192) {
              {
                def.setLevel(Deflater.BEST_SPEED);
              }
            }) {
      byte[] chunk = new byte[8192];
      for (ByteBuffer part : plain.getByteBuffers()) {
        while (part.hasRemaining()) {
          int n = Math.min(chunk.length, part.remaining());
          part.get(chunk, 0, n);
          gzip.write(chunk, 0, n);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // not in memory
    }
    return response
        .withEntity(HttpEntities.create(entity.getContentType(), out.result()))
        .addHeader(ContentEncoding.create(HttpEncodings.GZIP))
        .addHeader(VARY);
  }

  /** Large enough, and of a type that compresses (text, JSON, not images). */
  private static boolean worthIt(HttpResponse response) {
    HttpEntity entity = response.entity();
    return entity.getContentType().mediaType().isCompressible()
        && entity.getContentLengthOption().orElse(MIN_BYTES) >= MIN_BYTES;
  }

  /** An answer gzip'ed for some clients: caches must keep it apart from the plain one. */
  private static HttpResponse varies(HttpResponse response) {
    return worthIt(response) ? response.addHeader(VARY) : response;
  }
}

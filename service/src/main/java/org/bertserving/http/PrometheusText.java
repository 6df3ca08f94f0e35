package org.bertserving.http;

import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.bertserving.cluster.Metrics;

/** {@code GET /metrics}: the Prometheus client's text format 0.0.4 writer over a node's metrics. */
final class PrometheusText {
  /** {@code text/plain; version=0.0.4; charset=utf-8}, as Prometheus expects the format named. */
  static final ContentType CONTENT_TYPE =
      ContentTypes.parse(PrometheusTextFormatWriter.CONTENT_TYPE);

  private static final PrometheusTextFormatWriter WRITER =
      PrometheusTextFormatWriter.builder().setIncludeCreatedTimestamps(false).build();

  private PrometheusText() {}

  static HttpResponse response(Metrics m) {
    return HttpResponse.create().withEntity(HttpEntities.create(CONTENT_TYPE, render(m)));
  }

  static byte[] render(Metrics m) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
    try {
      WRITER.write(out, m.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the metrics to memory", e); // never: no I/O
    }
    return out.toByteArray();
  }
}

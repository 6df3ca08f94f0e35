package org.bertserving.client.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import java.io.IOException;

/**
 * Writes a score held as a {@code double} as the float32 it was computed in: the shortest text that
 * reads back to that float ({@code 0.831}), as text-embeddings-inference writes its scores, not the
 * widened double's digits ({@code 0.8309999704360962}).
 */
public final class Float32 extends JsonSerializer<Double> {
  @Override
  public void serialize(Double value, JsonGenerator gen, SerializerProvider serializers)
      throws IOException {
    gen.writeNumber(value.floatValue());
  }
}

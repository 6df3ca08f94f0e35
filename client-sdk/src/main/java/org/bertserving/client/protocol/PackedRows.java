package org.bertserving.client.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Rows of vectors as they cross nodes: each row one byte string of little-endian float32 (CBOR's
 * byte string, base64 in JSON), written and read as a whole instead of float by float. A row of 768
 * floats is 3 KiB on the wire either way; as CBOR numbers it was 768 tokens to write and to parse.
 */
public final class PackedRows {
  private PackedRows() {}

  /** Writes {@code List<float[]>} as an array of byte strings ({@code null} as null). */
  public static final class Writer extends JsonSerializer<List<float[]>> {
    @Override
    public void serialize(List<float[]> rows, JsonGenerator gen, SerializerProvider provider)
        throws IOException {
      gen.writeStartArray(rows, rows.size());
      ByteBuffer buffer = null;
      for (float[] row : rows) {
        if (row == null) {
          gen.writeNull();
          continue;
        }
        if (buffer == null || buffer.capacity() < row.length * 4) {
          buffer = ByteBuffer.allocate(row.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        }
        buffer.clear();
        buffer.asFloatBuffer().put(row);
        gen.writeBinary(buffer.array(), 0, row.length * 4);
      }
      gen.writeEndArray();
    }
  }

  /** Reads what {@link Writer} wrote. */
  public static final class Reader extends JsonDeserializer<List<float[]>> {
    @Override
    public List<float[]> deserialize(JsonParser p, DeserializationContext context)
        throws IOException {
      if (p.currentToken() != JsonToken.START_ARRAY) {
        return context.reportInputMismatch(
            this, "rows: expected an array of packed float32 rows, got %s", p.currentToken());
      }
      List<float[]> rows = new ArrayList<>();
      for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
        if (t == JsonToken.VALUE_NULL) {
          rows.add(null);
          continue;
        }
        byte[] bytes = p.getBinaryValue();
        if (bytes.length % 4 != 0) {
          return context.reportInputMismatch(
              this, "rows: a packed row of %d bytes is not whole float32s", bytes.length);
        }
        float[] row = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(row);
        rows.add(row);
      }
      return rows;
    }
  }
}

package org.bertserving.client;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.bertserving.client.http.EncodeAnswer;

/**
 * The JSON answer of {@code /encode} as an {@link EncodeResult}, through the record the server
 * writes it with ({@link EncodeAnswer}, whose vectors are read as they stream).
 */
final class ReplyReader {
  private ReplyReader() {}

  /** {@code result} (vectors, or each input's token vectors) and {@code tokens} when sent. */
  static EncodeResult read(ObjectMapper json, byte[] body) throws IOException {
    try (JsonParser p = json.getFactory().createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("the answer is not a JSON object");
      }
      EncodeAnswer answer = json.readValue(p, EncodeAnswer.class);
      if (answer.result() == null) {
        throw new IOException("the answer has no 'result' list");
      }
      return new EncodeResult(answer.vectors(), answer.tokenVectors(), answer.tokens());
    }
  }
}

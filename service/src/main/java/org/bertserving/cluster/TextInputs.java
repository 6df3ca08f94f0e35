package org.bertserving.cluster;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads one input of a {@link Job.Segment}'s texts back as the engine takes it: a string, or a Java
 * map (a sentence pair, or one text never split). Akka's object mapper would read an untyped object
 * as a Scala map (its Scala module), which the engine does not know.
 */
final class TextInputs extends JsonDeserializer<Object> {
  @Override
  public Object deserialize(JsonParser p, DeserializationContext context) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      return p.getValueAsString();
    }
    Map<String, String> pair = new LinkedHashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      pair.put(field, p.getValueAsString());
    }
    return pair;
  }
}

package org.bertserving.client.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.JsonNode;

/** The one answer to an {@link EncodeRequest}: vectors, or a failure with an HTTP-like status. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "outcome")
@JsonSubTypes({
  @JsonSubTypes.Type(value = EncodeReply.class, name = "reply"),
  @JsonSubTypes.Type(value = EncodeFailure.class, name = "failure")
})
public sealed interface EncodeOutcome extends WireMessage permits EncodeReply, EncodeFailure {
  JsonNode id();
}

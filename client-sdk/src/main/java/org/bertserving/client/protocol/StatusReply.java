package org.bertserving.client.protocol;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The server's configuration and statistics, with bert-as-service's {@code server_status} keys. A
 * JSON tree, not a map, so that it reads back as plain Java whatever Jackson modules the transport
 * registers.
 */
public record StatusReply(JsonNode status) implements WireMessage {}

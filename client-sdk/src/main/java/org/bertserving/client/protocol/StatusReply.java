package org.bertserving.client.protocol;

import java.util.Map;

/** The server's configuration and statistics, with bert-as-service's {@code server_status} keys. */
public record StatusReply(Map<String, Object> status) implements WireMessage {}

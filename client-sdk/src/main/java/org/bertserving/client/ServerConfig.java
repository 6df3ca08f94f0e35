package org.bertserving.client;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The server's configuration (its flags and version), without the changing statistics: what the
 * Python client's {@code server_config} returns. Unknown fields are kept in {@link #fields()}.
 */
public record ServerConfig(Map<String, Object> fields) {
  private static final Set<String> RUNTIME =
      Set.of(
          ServerStatus.STATISTIC,
          "server_current_time",
          ServerStatus.PENDING_ROWS,
          "queued_rows",
          "cluster_members",
          "workers_per_node",
          ServerStatus.NUM_WORKERS);

  public ServerConfig {
    fields = Collections.unmodifiableMap(fields);
  }

  static ServerConfig of(ServerStatus status) {
    Map<String, Object> config = new LinkedHashMap<>(status.fields());
    config.keySet().removeAll(RUNTIME);
    return new ServerConfig(config);
  }

  /** {@code max_seq_len}, or {@code null} for {@code NONE}. */
  public Integer maxSeqLen() {
    return fields.get(ServerStatus.MAX_SEQ_LEN) instanceof Number n ? n.intValue() : null;
  }

  public String poolingStrategy() {
    return (String) fields.get(ServerStatus.POOLING_STRATEGY);
  }

  public String serverVersion() {
    return (String) fields.get(ServerStatus.SERVER_VERSION);
  }
}

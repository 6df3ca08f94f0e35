package org.bertserving.client;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The server's {@code /status/server}: typed accessors for the common keys, and every field
 * (unknown ones included) in {@link #fields()}, so newer servers never break older clients.
 */
public record ServerStatus(Map<String, Object> fields) {

  public ServerStatus {
    fields = Collections.unmodifiableMap(fields);
  }

  /** {@code max_seq_len}, or {@code null} for {@code NONE}. */
  public Integer maxSeqLen() {
    return fields.get("max_seq_len") instanceof Number n ? n.intValue() : null;
  }

  public String poolingStrategy() {
    return (String) fields.get("pooling_strategy");
  }

  @SuppressWarnings("unchecked")
  public List<Integer> poolingLayer() {
    return (List<Integer>) fields.get("pooling_layer");
  }

  public String serverVersion() {
    return (String) fields.get("server_version");
  }

  public int numWorkers() {
    return fields.get("num_workers") instanceof Number n ? n.intValue() : 0;
  }

  public long pendingRows() {
    return fields.get("pending_rows") instanceof Number n ? n.longValue() : 0;
  }

  /** The {@code statistic} section, or an empty map. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> statistic() {
    Object s = fields.get("statistic");
    return s instanceof Map ? (Map<String, Object>) s : Map.of();
  }
}

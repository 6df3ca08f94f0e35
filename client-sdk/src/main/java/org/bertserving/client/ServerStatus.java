package org.bertserving.client;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The server's {@code /status/server}: typed accessors for the common keys, and every field
 * (unknown ones included) in {@link #fields()}, so newer servers never break older clients. Its
 * JSON is the object of {@link #fields()} itself, in the order the server put the keys; the server
 * writes its status through this record and names the keys read here by these constants.
 */
public record ServerStatus(@JsonValue Map<String, Object> fields) {
  /** A number, or {@code "NONE"}. */
  public static final String MAX_SEQ_LEN = "max_seq_len";

  public static final String POOLING_STRATEGY = "pooling_strategy";
  public static final String POOLING_LAYER = "pooling_layer";
  public static final String SERVER_VERSION = "server_version";
  public static final String NUM_WORKERS = "num_workers";
  public static final String PENDING_ROWS = "pending_rows";
  public static final String STATISTIC = "statistic";

  /** Each model served: {@code model}, {@code kind}, {@code default}, {@code max_seq_len}, … */
  public static final String MODELS = "models";

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public ServerStatus {
    fields = Collections.unmodifiableMap(fields);
  }

  /** {@code max_seq_len}, or {@code null} for {@code NONE}. */
  public Integer maxSeqLen() {
    return fields.get(MAX_SEQ_LEN) instanceof Number n ? n.intValue() : null;
  }

  /**
   * The {@code max_seq_len} of one model the server serves, from its {@code models} section: {@code
   * model}'s, or the default model's for {@code null}; the server's own {@link #maxSeqLen()} when
   * that model is not listed (an older server, or no worker of it yet). {@code null} for {@code
   * NONE}.
   */
  public Integer maxSeqLen(String model) {
    if (fields.get(MODELS) instanceof List<?> models) {
      for (Object listed : models) {
        if (listed instanceof Map<?, ?> m
            && (model == null
                ? Boolean.TRUE.equals(m.get("default"))
                : model.equals(m.get("model")))) {
          return m.get(MAX_SEQ_LEN) instanceof Number n ? n.intValue() : null;
        }
      }
    }
    return maxSeqLen();
  }

  public String poolingStrategy() {
    return (String) fields.get(POOLING_STRATEGY);
  }

  @SuppressWarnings("unchecked")
  public List<Integer> poolingLayer() {
    return (List<Integer>) fields.get(POOLING_LAYER);
  }

  public String serverVersion() {
    return (String) fields.get(SERVER_VERSION);
  }

  public int numWorkers() {
    return fields.get(NUM_WORKERS) instanceof Number n ? n.intValue() : 0;
  }

  public long pendingRows() {
    return fields.get(PENDING_ROWS) instanceof Number n ? n.longValue() : 0;
  }

  /** The {@code statistic} section, or an empty map. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> statistic() {
    Object s = fields.get(STATISTIC);
    return s instanceof Map ? (Map<String, Object>) s : Map.of();
  }
}

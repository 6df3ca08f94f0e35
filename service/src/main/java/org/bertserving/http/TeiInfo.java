package org.bertserving.http;

import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.bertserving.cluster.ServedModel;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.ModelKind;

/** text-embeddings-inference's {@code GET /info}, with its field names. */
final class TeiInfo extends AllDirectives {
  private final Api api;

  TeiInfo(Api api) {
    this.api = api;
  }

  /**
   * TEI's {@code /info}: the default model as its workers described it (this node's own settings
   * until one has: a frontend-only node has no model of its own).
   */
  Route route() {
    EngineSettings e = api.settings.engine();
    ServedModel m = api.served().defaultModel();
    String name = m != null ? m.name() : e.modelName();
    int maxSeqLen = m != null ? m.maxSeqLen() : e.maxSeqLen() != null ? e.maxSeqLen() : 0;
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("model_id", name);
    info.put("model_sha", null);
    info.put("model_dtype", m != null ? m.dtype() : e.fp16() ? "float16" : "float32");
    info.put("served_model_name", name);
    info.put("model_type", m != null ? modelType(m) : embedding(e.poolingStrategy().name()));
    info.put("max_concurrent_requests", api.settings.httpMaxConnections());
    info.put("max_input_length", maxSeqLen > 0 ? maxSeqLen : 512);
    info.put("max_batch_tokens", e.tokenBudget());
    info.put("max_batch_requests", null);
    info.put("max_client_batch_size", api.http.maxClientBatchSize());
    info.put("auto_truncate", api.http.autoTruncate());
    info.put("tokenization_workers", Math.max(1, api.settings.numWorker()));
    info.put("version", TeiRoutes.VERSION);
    info.put("sha", null);
    info.put("docker_label", null);
    return complete(Json.response(200, info));
  }

  /**
   * TEI's {@code model_type}: {@code embedding} (pooling), {@code reranker}, {@code classifier}.
   */
  private static Map<String, Object> modelType(ServedModel m) {
    if (m.kind() == ModelKind.EMBEDDING) {
      return embedding(m.pooling());
    }
    Map<String, String> id2label = new LinkedHashMap<>();
    Map<String, Integer> label2id = new LinkedHashMap<>();
    for (int i = 0; i < m.labels().size(); i++) {
      id2label.put(String.valueOf(i), m.labels().get(i));
      label2id.put(m.labels().get(i), i);
    }
    return Map.of(
        m.kind() == ModelKind.RERANK ? "reranker" : "classifier",
        Map.of("id2label", id2label, "label2id", label2id));
  }

  /** TEI's names for the pooling: cls, mean, last_token; ours for the others. */
  private static Map<String, Object> embedding(String strategy) {
    String pooling =
        switch (strategy) {
          case "REDUCE_MEAN" -> "mean";
          case "FIRST_TOKEN" -> "cls";
          case "LAST_TOKEN" -> "last_token";
          default -> strategy.toLowerCase(Locale.ROOT);
        };
    return Map.of("embedding", Map.of("pooling", pooling));
  }
}

package org.bertserving.cluster;

import akka.actor.typed.ActorSystem;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bertserving.client.ServerStatus;
import org.bertserving.engine.EngineSettings;

/**
 * {@code /status/server}: bert-as-service's {@code server_status} keys (its flags and a {@code
 * statistic} section), plus the cluster: members, workers per node, pending rows. The keys the SDK
 * reads are named by its {@link ServerStatus}'s constants.
 */
public final class StatusReport {
  /** This server's version, in one place: {@code -version}, the status, the ZeroMQ door. */
  public static final String VERSION = "0.1.0";

  private StatusReport() {}

  /**
   * One model: its name and kind, its workers now (0: all left), whether it is the default, its
   * {@code max_seq_len} (a number or {@code NONE}), pooling, row width and labels as its first
   * worker {@code described} them, its admission's speed and backlog, its queue.
   */
  static Map<String, Object> model(Dispatch d, ServedModel described, boolean isDefault) {
    Map<String, Object> model = new LinkedHashMap<>();
    model.put("model", d.model());
    model.put("kind", described.kind().wireName());
    model.put("workers", d.size());
    model.put("default", isDefault);
    model.put("max_seq_len", described.maxSeqLen() > 0 ? described.maxSeqLen() : "NONE");
    model.put("pooling_strategy", described.pooling());
    model.put("dimension", described.dimension());
    model.put("labels", described.labels());
    model.put("capacity_tokens_per_second", Math.round(d.admission().capacity()));
    model.put("backlog_seconds", Math.round(d.admission().backlogSeconds() * 10) / 10.0);
    model.put("queued_rows", d.queuedRows());
    return model;
  }

  static Map<String, Object> of(
      ServingSettings s,
      Metrics metrics,
      Map<String, Integer> workersPerNode,
      List<Map<String, Object>> workers,
      List<Map<String, Object>> models,
      String defaultModel,
      long pendingRows,
      long queuedRows,
      ActorSystem<?> system) {
    EngineSettings e = s.engine();
    Map<String, Object> status = new LinkedHashMap<>();
    status.put(ServerStatus.SERVER_VERSION, VERSION);
    status.put("server_start_time", metrics.started.toString());
    status.put("server_current_time", Instant.now().toString());
    // the model of requests that name none: this node's own until a worker has said which it is
    status.put("model", defaultModel != null ? defaultModel : e.modelName());
    status.put(
        "model_dir",
        e.modelDir() != null
            ? e.modelDir().toString()
            : e.model() != null ? "(-model) " + e.model() : "(default) BERT-Base Uncased");
    status.put("tuned_model_dir", e.tunedModelDir() == null ? null : e.tunedModelDir().toString());
    status.put("ckpt_name", e.ckptName());
    status.put("config_name", e.configName());
    // max_seq_len and pooling (what clients check texts against): the default model's, as its
    // workers said, once one has (a frontend-only node's own settings are only defaults)
    ServedModel served = metrics.served.defaultModel();
    Integer maxSeqLen = served != null ? (Integer) served.maxSeqLen() : e.maxSeqLen();
    status.put(ServerStatus.MAX_SEQ_LEN, maxSeqLen == null || maxSeqLen == 0 ? "NONE" : maxSeqLen);
    status.put(ServerStatus.POOLING_LAYER, e.poolingLayers());
    status.put(
        ServerStatus.POOLING_STRATEGY,
        served != null ? served.pooling() : e.poolingStrategy().name());
    status.put("mask_cls_sep", e.maskClsSep());
    status.put("no_special_token", e.noSpecialToken());
    status.put("fixed_embed_length", e.fixedEmbedLength());
    status.put("cased_tokenization", Boolean.FALSE.equals(e.doLowerCase()));
    status.put("normalize", e.normalize());
    status.put("prompt", e.prompt());
    status.put("num_worker", s.numWorker());
    status.put("device_map", s.deviceMap());
    status.put("max_batch_size", e.maxBatchSize());
    status.put("priority_batch_size", s.priorityBatchSize());
    status.put("prefetch_size", s.prefetchSize());
    status.put("fp16", e.fp16());
    status.put("xla", e.xla());
    status.put("gpu_memory_fraction", e.gpuMemoryFraction());
    status.put("http_port", metrics.httpPort > 0 ? metrics.httpPort : s.httpPort());
    status.put("http_max_connect", s.httpMaxConnections());
    status.put("cors", s.cors());
    status.put("show_tokens_to_client", s.showTokensToClient());
    status.put("request_timeout_ms", s.requestTimeout().toMillis());
    status.put("max_pending_rows", s.maxPendingRows());

    Map<String, Object> statistic = new LinkedHashMap<>();
    long requests = metrics.requests.sum();
    statistic.put("num_data_request", requests);
    statistic.put("num_total_seq", metrics.rows.sum());
    statistic.put(
        "avg_size_per_request", requests == 0 ? 0 : metrics.rows.sum() / (double) requests);
    Map<String, Long> replies = new TreeMap<>();
    metrics.replies().forEach((code, n) -> replies.put(String.valueOf(code), n));
    statistic.put("replies_by_status", replies);
    statistic.put("engine_failures", metrics.engineFailures.sum());
    statistic.put("rejoins", metrics.rejoins.sum());
    status.put(ServerStatus.STATISTIC, statistic);

    status.put(
        ServerStatus.NUM_WORKERS,
        workersPerNode.values().stream().mapToInt(Integer::intValue).sum());
    status.put("workers_per_node", new TreeMap<>(workersPerNode));
    status.put("workers", workers);
    status.put("models", models);
    status.put(ServerStatus.PENDING_ROWS, pendingRows);
    status.put("capacity_tokens_per_second", Math.round(metrics.capacityTokensPerSecond.get()));
    status.put("backlog_seconds", Math.round(metrics.backlogSeconds.get() * 10) / 10.0);
    status.put("queued_rows", queuedRows);
    // the frontends share the workers: what the others admitted counts in this one's admission
    Map<String, Double> others = metrics.otherFrontends;
    status.put("frontends_seen", (long) metrics.frontends.get());
    status.put(
        "cluster_backlog_seconds", Math.round(metrics.clusterBacklogSeconds.get() * 10) / 10.0);
    Map<String, Long> otherBacklogs = new TreeMap<>();
    others.forEach((address, tokens) -> otherBacklogs.put(address, Math.round(tokens)));
    status.put("other_frontends_backlog_tokens", otherBacklogs);
    List<Map<String, Object>> members = new ArrayList<>();
    Cluster.get(system)
        .state()
        .getMembers()
        .forEach(
            m -> {
              Map<String, Object> member = new LinkedHashMap<>();
              member.put("address", m.address().toString());
              member.put("status", m.status().toString());
              member.put("roles", new ArrayList<>(m.getRoles()));
              member.put("up", m.status() == MemberStatus.up());
              members.add(member);
            });
    status.put("cluster_members", members);
    return status;
  }
}

package org.bertserving.cluster;

import java.util.List;
import java.util.Objects;
import org.bertserving.engine.ModelKind;
import org.bertserving.engine.PoolingStrategy;

/**
 * One model the cluster serves, as its first worker described it ({@link
 * Frontend.WorkerDescription}): what the HTTP routes need to answer for it on any frontend,
 * including a frontend-only node whose own engine settings are only defaults.
 *
 * @param name the model's name, what requests route by
 * @param kind what it is for (the routes that serve it)
 * @param maxSeqLen its workers' {@code max_seq_len}; 0: {@code NONE}
 * @param pooling its pooling strategy's name ({@link PoolingStrategy})
 * @param labels a classifier's or a cross-encoder's labels, by index (empty for embeddings)
 * @param dimension the width of one output row (0: not known)
 * @param normalize whether its vectors are L2-normalized by default
 * @param dtype {@code float32}, {@code float16} or {@code bfloat16}
 */
public record ServedModel(
    String name,
    ModelKind kind,
    int maxSeqLen,
    String pooling,
    List<String> labels,
    int dimension,
    boolean normalize,
    String dtype) {

  public ServedModel {
    labels = labels == null ? List.of() : List.copyOf(labels);
  }

  /** What a worker's description says of its model. */
  static ServedModel of(Frontend.WorkerDescription description) {
    return new ServedModel(
        description.model(),
        kind(description.kind()),
        description.maxSeqLen(),
        description.pooling(),
        description.labels(),
        description.dimension(),
        description.normalize(),
        description.dtype());
  }

  private static ModelKind kind(String wireName) {
    for (ModelKind k : ModelKind.values()) {
      if (k.wireName().equals(wireName)) {
        return k;
      }
    }
    return ModelKind.EMBEDDING; // a worker that predates kinds served embeddings only
  }

  /** Whether it answers token vectors ({@code -pooling_strategy NONE}) rather than one per text. */
  public boolean tokenLevel() {
    return PoolingStrategy.NONE.name().equals(pooling);
  }

  /**
   * How {@code other}'s description differs from this one in what routing depends on (kind,
   * max_seq_len, pooling), or {@code null} when it does not.
   */
  String disagreement(ServedModel other) {
    if (kind != other.kind) {
      return "kind " + other.kind.wireName() + " (not " + kind.wireName() + ")";
    }
    if (maxSeqLen != other.maxSeqLen) {
      return "max_seq_len " + other.maxSeqLen + " (not " + maxSeqLen + ")";
    }
    if (!Objects.equals(pooling, other.pooling)) {
      return "pooling " + other.pooling + " (not " + pooling + ")";
    }
    return null;
  }
}

package org.bertserving.engine;

import java.util.Locale;

/**
 * What a loaded model is for, which decides the routes that serve it: an embedding model answers
 * {@code /embed}, {@code /v1/embeddings} and {@code /similarity}; a cross-encoder (a sequence
 * classifier with one label) {@code /rerank} and {@code /v1/rerank}; a classifier (several labels)
 * {@code /predict}. A property of the model, so that a frontend serving several can route by it.
 */
public enum ModelKind {
  EMBEDDING("POST /embed, /v1/embeddings, /similarity"),
  RERANK("POST /rerank, /v1/rerank, /predict"),
  CLASSIFY("POST /predict");

  private final String routes;

  ModelKind(String routes) {
    this.routes = routes;
  }

  /** The kind of a model pooled by {@code strategy} with {@code labels} labels. */
  public static ModelKind of(PoolingStrategy strategy, int labels) {
    if (strategy != PoolingStrategy.LOGITS) {
      return EMBEDDING;
    }
    return labels == 1 ? RERANK : CLASSIFY;
  }

  /** The name users see: {@code embedding}, {@code rerank}, {@code classify}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The routes a model of this kind answers, for error messages. */
  public String routes() {
    return routes;
  }
}

package org.bertserving.http;

/**
 * The route families, each with its own error shape (see {@link Errors}): bert-as-service's routes,
 * OpenAI's under {@code /v1}, text-embeddings-inference's.
 */
enum Dialect {
  BERT,
  OPENAI,
  TEI;

  /** The family a request path belongs to; anything unknown answers as bert-as-service. */
  static Dialect of(String path) {
    if (path.equals("/v1") || path.startsWith("/v1/") || path.equals("/embeddings")) {
      return OPENAI;
    }
    switch (path) {
      case "/",
      "/embed",
      "/embed_all",
      "/embed_sparse",
      "/ping",
      "/tokenize",
      "/decode",
      "/info",
      "/rerank",
      "/predict",
      "/similarity",
      "/invocations":
        return TEI;
      default:
        return BERT;
    }
  }
}

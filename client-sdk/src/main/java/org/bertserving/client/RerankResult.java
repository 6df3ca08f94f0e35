package org.bertserving.client;

/**
 * One document's place in a reranking ({@link BertClient#rerank}).
 *
 * @param index the document's position in the list given
 * @param relevanceScore the cross-encoder's relevance of the document to the query, in (0, 1) (the
 *     sigmoid of its logit); higher is more relevant
 */
public record RerankResult(int index, double relevanceScore) {}

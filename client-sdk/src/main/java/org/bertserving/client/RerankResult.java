package org.bertserving.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One document's place in a reranking ({@link BertClient#rerank}), as {@code /v1/rerank} answers
 * it.
 *
 * @param index the document's position in the list given
 * @param relevanceScore the cross-encoder's relevance of the document to the query, in (0, 1) (the
 *     sigmoid of its logit); higher is more relevant
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RerankResult(
    @JsonProperty("index") int index, @JsonProperty("relevance_score") double relevanceScore) {}

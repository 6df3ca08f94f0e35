package org.bertserving.client.http;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import org.bertserving.client.RerankResult;

/**
 * The part of {@code POST /v1/rerank}'s answer the SDK reads: the {@code results}, highest first.
 * The server's other fields ({@code id}, {@code model}, {@code usage}, Cohere's {@code meta}, each
 * result's {@code document}) are skipped.
 *
 * @param results each document's index and {@code relevance_score}; {@code null}: none sent
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RerankAnswer(@JsonProperty("results") List<RerankResult> results) {}

package org.bertserving.client.http;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * The body of {@code POST /v1/rerank} as the SDK sends it (Cohere's form, documents as strings).
 *
 * @param query what the documents are scored against
 * @param documents the texts to score
 * @param topN answer only the N most relevant; {@code null}: all (not written)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"query", "documents", "top_n"})
public record RerankBody(
    @JsonProperty("query") String query,
    @JsonProperty("documents") List<String> documents,
    @JsonProperty("top_n") @JsonInclude(JsonInclude.Include.NON_NULL) Integer topN) {}

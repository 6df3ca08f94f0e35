package org.bertserving.client.http;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;
import java.util.Map;
import org.bertserving.client.RerankResult;

/**
 * {@code POST /v1/rerank}'s answer, in Cohere's and Jina's form: the server writes it, the SDK
 * reads its {@code results} ({@link #ranking()}).
 *
 * @param id this answer's id
 * @param results each document's place, highest {@code relevance_score} first; {@code null}: none
 *     sent
 * @param model the reranker that scored them
 * @param usage the tokens the pairs took
 * @param meta Cohere's {@code meta} (its clients read {@code billed_units})
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RerankAnswer(
    @JsonProperty("id") String id,
    @JsonProperty("results") List<Result> results,
    @JsonProperty("model") String model,
    @JsonProperty("usage") Usage usage,
    @JsonProperty("meta") Map<String, Object> meta) {

  /**
   * One document's place.
   *
   * @param index its position in the list given
   * @param relevanceScore the reranker's relevance of it to the query
   * @param document the document, when {@code return_documents} asked for it ({@code null}: not)
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Result(
      @JsonProperty("index") int index,
      @JsonProperty("relevance_score") @JsonSerialize(using = Float32.class) double relevanceScore,
      @JsonProperty("document") @JsonInclude(JsonInclude.Include.NON_NULL) Document document) {}

  /** A document returned with its score, as Cohere writes it. */
  public record Document(@JsonProperty("text") String text) {}

  /** The tokens the pairs took. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Usage(@JsonProperty("total_tokens") long totalTokens) {}

  /** The results as the SDK returns them; {@code null}: the answer had none. */
  public List<RerankResult> ranking() {
    return results == null
        ? null
        : results.stream().map(r -> new RerankResult(r.index(), r.relevanceScore())).toList();
  }
}

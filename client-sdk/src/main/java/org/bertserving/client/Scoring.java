package org.bertserving.client;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.List;
import java.util.function.Function;
import org.bertserving.client.http.PredictBody;
import org.bertserving.client.http.RerankAnswer;
import org.bertserving.client.http.RerankBody;

/**
 * The bodies and answers of the scoring calls: {@code POST /v1/rerank} (Cohere's form) for {@link
 * BertClient#rerank}, {@code POST /predict} (text-embeddings-inference's batch form) for {@link
 * BertClient#classify}.
 */
final class Scoring {
  static final Function<Addresses.Address, URI> RERANK = a -> URI.create(a.base() + "/v1/rerank");
  static final Function<Addresses.Address, URI> PREDICT = a -> URI.create(a.base() + "/predict");

  private static final TypeReference<RerankAnswer> RERANKED = new TypeReference<>() {};

  /** Per text its labels, as {@code /predict} answers a batch. */
  private static final TypeReference<List<List<LabelScore>>> LABELS = new TypeReference<>() {};

  private Scoring() {}

  static byte[] rerankBody(ObjectMapper json, String query, List<String> documents, Integer topN) {
    if (query == null || query.isBlank()) {
      throw new IllegalArgumentException("query is empty");
    }
    if (documents == null || documents.isEmpty()) {
      throw new IllegalArgumentException("no documents given");
    }
    return write(json, new RerankBody(query, documents, topN));
  }

  static List<RerankResult> rerankResults(ObjectMapper json, byte[] answer) {
    List<RerankResult> results = read(json, answer, "/v1/rerank", RERANKED).ranking();
    if (results == null) {
      throw new BertClientException("unreadable answer of /v1/rerank: no results");
    }
    return results;
  }

  /** Each text as a batch of one-element lists, so that the answer is always a list of lists. */
  static byte[] classifyBody(ObjectMapper json, List<String> texts) {
    if (texts == null || texts.isEmpty()) {
      throw new IllegalArgumentException("no texts given");
    }
    return write(json, PredictBody.of(texts));
  }

  static List<List<LabelScore>> labels(ObjectMapper json, byte[] answer) {
    return read(json, answer, "/predict", LABELS);
  }

  private static byte[] write(ObjectMapper json, Object body) {
    try {
      return json.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static <T> T read(ObjectMapper json, byte[] answer, String route, TypeReference<T> type) {
    try {
      return json.readValue(answer, type);
    } catch (IOException e) {
      throw new BertClientException("unreadable answer of " + route + ": " + e.getMessage(), e);
    }
  }
}

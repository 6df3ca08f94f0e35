package org.bertserving.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The bodies and answers of the scoring calls: {@code POST /v1/rerank} (Cohere's form) for {@link
 * BertClient#rerank}, {@code POST /predict} (text-embeddings-inference's batch form) for {@link
 * BertClient#classify}.
 */
final class Scoring {
  static final Function<Addresses.Address, URI> RERANK = a -> URI.create(a.base() + "/v1/rerank");
  static final Function<Addresses.Address, URI> PREDICT = a -> URI.create(a.base() + "/predict");

  private Scoring() {}

  static byte[] rerankBody(ObjectMapper json, String query, List<String> documents, Integer topN) {
    if (query == null || query.isBlank()) {
      throw new IllegalArgumentException("query is empty");
    }
    if (documents == null || documents.isEmpty()) {
      throw new IllegalArgumentException("no documents given");
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("query", query);
    body.put("documents", documents);
    if (topN != null) {
      body.put("top_n", topN);
    }
    return write(json, body);
  }

  static List<RerankResult> rerankResults(ObjectMapper json, byte[] answer) {
    JsonNode results = read(json, answer, "/v1/rerank").path("results");
    if (!results.isArray()) {
      throw new BertClientException("unreadable answer of /v1/rerank: no results");
    }
    List<RerankResult> out = new ArrayList<>(results.size());
    for (JsonNode r : results) {
      out.add(new RerankResult(r.path("index").asInt(), r.path("relevance_score").asDouble()));
    }
    return out;
  }

  /** Each text as a batch of one-element lists, so that the answer is always a list of lists. */
  static byte[] classifyBody(ObjectMapper json, List<String> texts) {
    if (texts == null || texts.isEmpty()) {
      throw new IllegalArgumentException("no texts given");
    }
    List<List<String>> inputs = new ArrayList<>(texts.size());
    texts.forEach(t -> inputs.add(List.of(t)));
    return write(json, Map.of("inputs", inputs));
  }

  static List<List<LabelScore>> labels(ObjectMapper json, byte[] answer) {
    JsonNode rows = read(json, answer, "/predict");
    List<List<LabelScore>> out = new ArrayList<>(rows.size());
    for (JsonNode row : rows) {
      List<LabelScore> labels = new ArrayList<>(row.size());
      for (JsonNode l : row) {
        labels.add(new LabelScore(l.path("label").asText(), l.path("score").asDouble()));
      }
      out.add(labels);
    }
    return out;
  }

  private static byte[] write(ObjectMapper json, Object body) {
    try {
      return json.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode read(ObjectMapper json, byte[] answer, String route) {
    try {
      return json.readTree(answer);
    } catch (IOException e) {
      throw new BertClientException("unreadable answer of " + route + ": " + e.getMessage(), e);
    }
  }
}

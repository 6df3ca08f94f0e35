package org.bertserving.client.http;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;

/**
 * The body of {@code POST /predict} as the SDK sends it: text-embeddings-inference's batch form,
 * each text a batch of one, so that the answer is always a list (per text) of lists of {@link
 * org.bertserving.client.LabelScore}s.
 *
 * @param inputs each text as a one-element list
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PredictBody(@JsonProperty("inputs") List<List<String>> inputs) {

  /** A batch of {@code texts}, each alone. */
  public static PredictBody of(List<String> texts) {
    List<List<String>> inputs = new ArrayList<>(texts.size());
    texts.forEach(t -> inputs.add(List.of(t)));
    return new PredictBody(inputs);
  }
}

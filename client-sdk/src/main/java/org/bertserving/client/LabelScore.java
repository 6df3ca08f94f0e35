package org.bertserving.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import org.bertserving.client.http.Float32;

/**
 * One label of a classifier's answer ({@link BertClient#classify}), as {@code /predict} answers it.
 *
 * @param label the label's name, as the model's {@code id2label} gives it
 * @param score its probability (softmax over the labels; sigmoid for a single label)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"score", "label"}) // as text-embeddings-inference writes them
public record LabelScore(
    @JsonProperty("label") String label,
    @JsonProperty("score") @JsonSerialize(using = Float32.class) double score) {}

package org.bertserving.client.http;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.util.List;
import org.bertserving.client.protocol.EncodeReply;

/**
 * The JSON answer of {@code POST /encode}: {@code {"id", "result", "tokens", "status", "model"}},
 * as bert-as-service answers, plus the model that computed the vectors. (Asked with {@code Accept:
 * application/x-npy}, the server answers the vectors alone as a NumPy array instead.)
 *
 * @param id the request's {@code id}, {@code null} (written as JSON {@code null}) when none was
 *     sent
 * @param result {@code float[][]}, one vector per input, or, for {@code pooling_strategy=NONE},
 *     {@code float[][][]}, each input's token vectors zero-padded to the same length; read straight
 *     into float arrays as it streams (no tree of 768 nodes a vector)
 * @param tokens per input the tokens fed to the model; {@code null}: not asked for (not written)
 * @param status always 200 (errors are {@link ErrorAnswer}s)
 * @param model the model that computed the vectors; {@code null}: not named (older servers)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"id", "result", "tokens", "status", "model"})
public record EncodeAnswer(
    @JsonProperty("id") JsonNode id,
    @JsonProperty("result") @JsonDeserialize(using = ResultReader.class) Object result,
    @JsonProperty("tokens") @JsonInclude(JsonInclude.Include.NON_NULL) List<List<String>> tokens,
    @JsonProperty("status") int status,
    @JsonProperty("model") @JsonInclude(JsonInclude.Include.NON_NULL) String model) {

  /** The answer for the frontend's reply: the vectors of a pooled model, else the token vectors. */
  public static EncodeAnswer of(EncodeReply reply) {
    return new EncodeAnswer(
        reply.id(),
        reply.tokenLevel() ? reply.tokenMatrices() : reply.matrix(),
        reply.tokens(),
        200,
        reply.model());
  }

  /** {@code result} as one vector per input, or {@code null} when it holds token vectors. */
  @JsonIgnore
  public float[][] vectors() {
    return result instanceof float[][] vectors ? vectors : null;
  }

  /** {@code result} as each input's token vectors, or {@code null} when it holds pooled vectors. */
  @JsonIgnore
  public float[][][] tokenVectors() {
    return result instanceof float[][][] vectors ? vectors : null;
  }
}

package org.bertserving.http;

import akka.http.javadsl.model.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.bertserving.client.http.EncodeAnswer;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeReply;

/**
 * Encode outcomes as each route family answers them: bert-as-service's {@code /encode}, OpenAI's
 * embeddings, text-embeddings-inference's {@code /embed} and {@code /embed_all}; failures through
 * {@link Errors} in the family's shape.
 */
final class Rendering {
  private Rendering() {}

  static HttpResponse encode(EncodeOutcome outcome) {
    if (outcome instanceof EncodeFailure failure) {
      return Errors.render(Dialect.BERT, ApiError.of(failure));
    }
    // the SDK reads the same record; its floats go through the mapper's fast writer as before
    return Json.response(200, EncodeAnswer.of((EncodeReply) outcome));
  }

  /** {@code /encode} asked with {@code Accept: application/x-npy}; failures stay JSON. */
  static HttpResponse npy(EncodeOutcome outcome) {
    return outcome instanceof EncodeReply reply ? Npy.response(reply) : encode(outcome);
  }

  static HttpResponse embeddings(EncodeOutcome outcome, String model, boolean base64) {
    if (outcome instanceof EncodeFailure failure) {
      return Errors.render(Dialect.OPENAI, ApiError.of(failure));
    }
    EncodeReply reply = (EncodeReply) outcome;
    List<OpenAiJson.Embedding> data = new ArrayList<>(reply.rows().size());
    for (int i = 0; i < reply.rows().size(); i++) {
      float[] vector = reply.rows().get(i);
      data.add(new OpenAiJson.Embedding(i, base64 ? base64(vector) : vector));
    }
    long tokens = reply.totalTokens();
    return Json.response(
        200,
        new OpenAiJson.Embeddings(
            data,
            reply.model() != null ? reply.model() : model,
            new OpenAiJson.Usage(tokens, tokens)));
  }

  /** {@code /embed}: one vector per input, always a list of lists. */
  static HttpResponse embed(EncodeOutcome outcome) {
    if (outcome instanceof EncodeFailure failure) {
      return Errors.render(Dialect.TEI, ApiError.of(failure));
    }
    return Json.response(200, ((EncodeReply) outcome).rows());
  }

  /** {@code /embed_all}: each input's token vectors, its own tokens only (no padding). */
  static HttpResponse embedAll(EncodeOutcome outcome) {
    if (outcome instanceof EncodeFailure failure) {
      return Errors.render(Dialect.TEI, ApiError.of(failure));
    }
    EncodeReply reply = (EncodeReply) outcome;
    int dim = reply.dim();
    List<float[][]> out = new ArrayList<>(reply.rows().size());
    for (float[] row : reply.rows()) {
      float[][] vectors = new float[row.length / dim][];
      for (int t = 0; t < vectors.length; t++) {
        vectors[t] = Arrays.copyOfRange(row, t * dim, (t + 1) * dim);
      }
      out.add(vectors);
    }
    return Json.response(200, out);
  }

  /** Little-endian float32, as OpenAI's clients decode {@code encoding_format=base64}. */
  private static String base64(float[] vector) {
    ByteBuffer bytes = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(vector);
    return Base64.getEncoder().encodeToString(bytes.array());
  }
}

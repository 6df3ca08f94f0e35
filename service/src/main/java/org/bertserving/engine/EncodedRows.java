package org.bertserving.engine;

import java.util.List;
import org.bertserving.client.protocol.EncodeReply;

/**
 * The engine's vectors of one call, in input order (the SDK's {@code EncodeResult} is what a client
 * gets back).
 *
 * @param rows per text: the pooled vector, or for token-level pooling the text's own {@code length
 *     x dim} values (row-major, unpadded)
 * @param dim width of a pooled vector, or of one token's vector
 * @param outputLength {@code T} that token-level rows are padded to in {@link #tokenMatrices()}
 * @param tokens per text the tokens fed, including {@code [CLS]}/{@code [SEP]}
 */
public record EncodedRows(
    List<float[]> rows, int dim, int outputLength, boolean tokenLevel, List<List<String>> tokens) {

  /** Pooled vectors as {@code [B, dim]}. */
  public float[][] matrix() {
    if (tokenLevel) {
      throw new IllegalStateException("token-level result: use tokenMatrices()");
    }
    return rows.toArray(new float[0][]);
  }

  /** Token vectors as {@code [B, T, dim]}, zero-padded as bert-as-service's NONE pooling. */
  public float[][][] tokenMatrices() {
    if (!tokenLevel) {
      throw new IllegalStateException("pooled result: use matrix()");
    }
    return EncodeReply.padded(rows, dim, outputLength);
  }
}

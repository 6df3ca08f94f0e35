package org.bertserving.engine;

import java.util.List;

/**
 * Vectors of one request in input order.
 *
 * @param rows per text: the pooled vector, or for token-level pooling the text's own
 *     {@code length x dim} values (row-major, unpadded)
 * @param dim width of a pooled vector, or of one token's vector
 * @param outputLength {@code T} that token-level rows are padded to in {@link #tokenMatrices()}
 * @param tokens per text the tokens fed, including {@code [CLS]}/{@code [SEP]}
 */
public record EncodeResult(
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
    float[][][] out = new float[rows.size()][outputLength][dim];
    for (int r = 0; r < out.length; r++) {
      float[] row = rows.get(r);
      for (int t = 0; t < row.length / dim && t < outputLength; t++) {
        System.arraycopy(row, t * dim, out[r][t], 0, dim);
      }
    }
    return out;
  }
}

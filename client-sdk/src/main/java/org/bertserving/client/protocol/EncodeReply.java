package org.bertserving.client.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;

/**
 * Vectors in input order.
 *
 * @param rows per text the pooled vector ({@code dim} floats) or, when {@code tokenLevel}, the
 *     text's own {@code tokens x dim} values row-major, unpadded
 * @param outputLength {@code T} that token-level rows are padded to in bert-as-service's answer
 * @param tokens per text the tokens fed to the model, or {@code null} when not asked for
 * @param tokenCounts per text how many tokens the model read ({@code [CLS]} and {@code [SEP]}
 *     included), always there: what a request used
 * @param model the name of the model that computed the vectors ({@code null} from older servers)
 */
public record EncodeReply(
    JsonNode id,
    int dim,
    int outputLength,
    boolean tokenLevel,
    @JsonSerialize(using = PackedRows.Writer.class)
        @JsonDeserialize(using = PackedRows.Reader.class)
        List<float[]> rows,
    List<List<String>> tokens,
    int[] tokenCounts,
    String model)
    implements EncodeOutcome {

  /** A reply that names no model. */
  public EncodeReply(
      JsonNode id,
      int dim,
      int outputLength,
      boolean tokenLevel,
      List<float[]> rows,
      List<List<String>> tokens,
      int[] tokenCounts) {
    this(id, dim, outputLength, tokenLevel, rows, tokens, tokenCounts, null);
  }

  /** All tokens the request's texts were read as. */
  public long totalTokens() {
    long total = 0;
    for (int count : tokenCounts) {
      total += count;
    }
    return total;
  }

  /** Pooled vectors as {@code [B, dim]}. */
  public float[][] matrix() {
    return rows.toArray(new float[0][]);
  }

  /** Token vectors as {@code [B, T, dim]}, zero-padded. */
  public float[][][] tokenMatrices() {
    return padded(rows, dim, outputLength);
  }

  /**
   * Token-level rows as bert-as-service's NONE pooling answers them: {@code [B, T, dim]}, each
   * text's {@code tokens x dim} values followed by zeros (cut at {@code T}).
   */
  public static float[][][] padded(List<float[]> rows, int dim, int outputLength) {
    float[][][] out = new float[rows.size()][outputLength][dim];
    for (int r = 0; r < out.length; r++) {
      float[] row = rows.get(r);
      for (int t = 0; t < Math.min(outputLength, row.length / dim); t++) {
        System.arraycopy(row, t * dim, out[r][t], 0, dim);
      }
    }
    return out;
  }
}

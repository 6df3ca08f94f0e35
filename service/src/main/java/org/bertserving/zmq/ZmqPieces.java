package org.bertserving.zmq;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.List;
import org.bertserving.client.protocol.EncodeReply;

/**
 * A large ZeroMQ request cut into pieces the frontend takes one by one, and their replies joined
 * again. bert-as-service's Python client sends a whole corpus in one {@code encode} and waits as
 * long as it takes (its timeout is off by default); the original server cut it into jobs of {@code
 * max_batch_size}. Here each piece is a request of its own, with the whole request timeout, so a
 * corpus of any size finishes, however slow the workers, instead of being refused for its size
 * ({@code max-request-rows}) or for the time it would take.
 */
final class ZmqPieces {
  /** Texts a piece: the original's default {@code max_batch_size}. */
  static final int ROWS = 256;

  /**
   * Pieces in flight at once: enough that the frontend can batch across them and keep its workers
   * busy, few enough that a piece queued behind the others still finishes within its timeout.
   */
  static final int IN_FLIGHT = 4;

  private ZmqPieces() {}

  /** {@code texts} (a JSON list) cut into lists of at most {@code rows}, in order. */
  static List<JsonNode> split(JsonNode texts, int rows) {
    List<JsonNode> pieces = new ArrayList<>();
    for (int start = 0; start < texts.size(); start += rows) {
      ArrayNode piece = JsonNodeFactory.instance.arrayNode();
      for (int i = start; i < Math.min(texts.size(), start + rows); i++) {
        piece.add(texts.get(i));
      }
      pieces.add(piece);
    }
    return pieces;
  }

  /**
   * The pieces' replies as one, in order: token-level rows padded to the longest piece's length,
   * tokens where every piece has them.
   *
   * @throws IllegalStateException when the pieces came from different models
   */
  static EncodeReply joined(List<EncodeReply> replies) {
    EncodeReply first = replies.get(0);
    List<float[]> rows = new ArrayList<>();
    List<List<String>> tokens = new ArrayList<>();
    int counts = 0;
    int outputLength = 0;
    boolean allTokens = true;
    for (EncodeReply r : replies) {
      // the default model could change between pieces: never join vectors of two models
      if (r.dim() != first.dim()
          || r.tokenLevel() != first.tokenLevel()
          || !java.util.Objects.equals(r.model(), first.model())) {
        throw new IllegalStateException(
            "the pieces were answered by different models ("
                + first.model()
                + ", width "
                + first.dim()
                + "; "
                + r.model()
                + ", width "
                + r.dim()
                + "): send the request again");
      }
      rows.addAll(r.rows());
      counts += r.tokenCounts().length;
      outputLength = Math.max(outputLength, r.outputLength());
      if (r.tokens() == null) {
        allTokens = false;
      } else {
        tokens.addAll(r.tokens());
      }
    }
    int[] tokenCounts = new int[counts];
    int at = 0;
    for (EncodeReply r : replies) {
      System.arraycopy(r.tokenCounts(), 0, tokenCounts, at, r.tokenCounts().length);
      at += r.tokenCounts().length;
    }
    return new EncodeReply(
        first.id(),
        first.dim(),
        outputLength,
        first.tokenLevel(),
        rows,
        allTokens ? tokens : null,
        tokenCounts,
        first.model());
  }
}

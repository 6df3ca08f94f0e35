package org.bertserving.zmq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.cluster.ServedModel;
import org.bertserving.engine.ModelKind;
import org.junit.jupiter.api.Test;

/** A large request's pieces and their replies joined again. */
class ZmqPiecesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void piecesKeepEveryTextInOrderTheLastOneShort() throws Exception {
    JsonNode texts = JSON.readTree("[\"a\", \"b\", \"c\", \"d\", \"e\"]");
    List<JsonNode> pieces = ZmqPieces.split(texts, 2);
    assertEquals(
        List.of("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"e\"]"),
        pieces.stream().map(JsonNode::toString).toList());
    assertEquals(List.of(texts), ZmqPieces.split(texts, 5).stream().toList());
  }

  @Test
  void aCorpusWhoseVectorsWouldNotFitOneFrameIsRefusedBeforeAnyIsComputed() {
    // BERT-Base under NONE: 512 x 768 float32 a text, 1.5 MiB
    ServedModel none =
        new ServedModel("m", ModelKind.EMBEDDING, 512, "NONE", null, 768, false, "float32");
    assertNull(ZmqFrames.tooLarge(1300, none));
    String refused = ZmqFrames.tooLarge(1400, none);
    assertTrue(refused.startsWith("1400 texts would take 2202009600 bytes"), refused);
    // pooled, two bytes a value: 1.3 M texts fit, 1.5 M do not
    ServedModel fp16 =
        new ServedModel("m", ModelKind.EMBEDDING, 512, "REDUCE_MEAN", null, 768, false, "float16");
    assertNull(ZmqFrames.tooLarge(1_300_000, fp16));
    assertTrue(ZmqFrames.tooLarge(1_500_000, fp16).contains("over the 2 GiB"));
    // no worker described yet: left to the reply's own check
    assertNull(ZmqFrames.tooLarge(100_000_000, null));
  }

  @Test
  void piecesOfDifferentModelsAreNeverJoined() {
    EncodeReply a =
        new EncodeReply(null, 2, 0, false, List.of(new float[2]), null, new int[] {1}, "a");
    EncodeReply b =
        new EncodeReply(null, 3, 0, false, List.of(new float[3]), null, new int[] {1}, "b");
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> ZmqPieces.joined(List.of(a, b)));
    assertTrue(e.getMessage().contains("different models"), e.getMessage());
  }

  @Test
  void tokenLevelRepliesArePaddedToTheLongestPieceAndTokensKeptOnlyWhereAllHaveThem() {
    // two texts of 1 and 2 tokens (dim 2) in one piece padded to 2, one of 3 tokens in another
    EncodeReply first =
        new EncodeReply(
            null,
            2,
            2,
            true,
            List.of(new float[] {1, 2}, new float[] {3, 4, 5, 6}),
            List.of(List.of("a"), List.of("b", "c")),
            new int[] {1, 2},
            "m");
    EncodeReply second =
        new EncodeReply(
            null,
            2,
            3,
            true,
            List.of(new float[] {7, 8, 9, 10, 11, 12}),
            List.of(List.of("d", "e", "f")),
            new int[] {3},
            "m");
    EncodeReply joined = ZmqPieces.joined(List.of(first, second));
    assertEquals(3, joined.outputLength());
    assertEquals(3, joined.rows().size());
    assertArrayEquals(new int[] {1, 2, 3}, joined.tokenCounts());
    assertEquals(List.of(List.of("a"), List.of("b", "c"), List.of("d", "e", "f")), joined.tokens());
    assertEquals("m", joined.model());
    float[][][] matrices = joined.tokenMatrices();
    assertArrayEquals(new float[] {1, 2}, matrices[0][0]);
    assertArrayEquals(new float[] {0, 0}, matrices[0][2], "padded to the longest piece");
    assertArrayEquals(new float[] {11, 12}, matrices[2][2]);

    EncodeReply noTokens =
        new EncodeReply(null, 2, 1, true, List.of(new float[] {0, 1}), null, new int[] {1}, "m");
    assertNull(ZmqPieces.joined(List.of(first, noTokens)).tokens());
  }
}

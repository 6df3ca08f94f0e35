package org.bertserving.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializers;
import java.util.List;
import org.bertserving.client.protocol.EncodeReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Vectors cross nodes as packed float32 bytes through the nodes' own serialization settings (CBOR
 * for every wire message), and come back as the same floats; tokens only travel when asked for.
 */
class WireFormatTest {
  static final ActorTestKit KIT = LocalKit.create("");

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  static Object roundTrip(Object message) {
    Serialization serialization = SerializationExtension.get(KIT.system().classicSystem());
    byte[] bytes = serialization.serialize(message).get();
    var serializer = serialization.findSerializerFor(message);
    return serialization
        .deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, message))
        .get();
  }

  static int size(Object message) {
    return SerializationExtension.get(KIT.system().classicSystem()).serialize(message).get().length;
  }

  static float[] row(int dim, int seed) {
    float[] row = new float[dim];
    for (int d = 0; d < dim; d++) {
      row[d] = (float) Math.sin(seed * 1000 + d) / 3f; // all 32 bits in use
    }
    return row;
  }

  @Test
  void resultsTravelAsPackedFloat32() {
    List<float[]> rows = List.of(row(768, 1), row(768, 2), row(768, 3));
    Aggregator.JobResult result =
        new Aggregator.JobResult("r1", 4, 768, 0, rows, null, new int[] {5, 6, 7}, 0, null, null);
    Aggregator.JobResult back = (Aggregator.JobResult) roundTrip(result);
    for (int i = 0; i < rows.size(); i++) {
      assertArrayEquals(rows.get(i), back.rows().get(i), "row " + i + ", bit for bit");
    }
    assertArrayEquals(new int[] {5, 6, 7}, back.tokenCounts());
    assertNull(back.tokens(), "no tokens asked for, none sent");
    int bytes = size(result);
    // as CBOR numbers a float takes 5 bytes (3 x 768 x 5 = 11,520); packed, 4 and a few headers
    assertTrue(bytes < 3 * 768 * 4 + 200, bytes + " bytes for three 768-float rows");
  }

  @Test
  void aWorkersDescriptionCarriesWhatTheRoutesServeItsModelBy() {
    Frontend.WorkerDescription description =
        new Frontend.WorkerDescription(
            null,
            "node/worker-0",
            1000,
            "CPU",
            "2.18.0",
            "",
            "",
            -1,
            -1,
            0,
            0,
            "tiny-classifier",
            16,
            "classify",
            "LOGITS",
            List.of("negative", "neutral", "positive"),
            3,
            false,
            "float32");
    Frontend.WorkerDescription back = (Frontend.WorkerDescription) roundTrip(description);
    assertEquals(description, back);
    ServedModel model = ServedModel.of(back);
    assertEquals(org.bertserving.engine.ModelKind.CLASSIFY, model.kind());
    assertEquals(List.of("negative", "neutral", "positive"), model.labels());
    assertEquals(16, model.maxSeqLen());
  }

  @Test
  void repliesToClusterClientsTravelPackedToo() {
    EncodeReply reply =
        new EncodeReply(
            null,
            768,
            0,
            false,
            List.of(row(768, 4), row(768, 5)),
            List.of(List.of("[CLS]", "a", "[SEP]"), List.of("[CLS]", "b", "[SEP]")),
            new int[] {3, 3});
    EncodeReply back = (EncodeReply) roundTrip(reply);
    assertArrayEquals(reply.rows().get(1), back.rows().get(1));
    assertEquals(reply.tokens(), back.tokens());
    assertEquals(6, back.totalTokens());
    assertTrue(size(reply) < 2 * 768 * 4 + 200, size(reply) + " bytes for two 768-float rows");
  }
}

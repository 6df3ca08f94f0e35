package org.bertserving.engine.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.bertserving.engine.DefaultModel;
import org.bertserving.engine.TinyBert;
import org.bertserving.engine.tf.CheckpointIndex.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;

/** The {@code .index} reader on Google's real checkpoint and on one TensorFlow wrote here. */
class CheckpointIndexTest {

  @Test
  void readsTheDefaultModelsVariables() throws IOException {
    Path index = DefaultModel.unpacked().resolve("variables").resolve("variables.index");
    Map<String, TensorInfo> t = CheckpointIndex.read(index).tensors();
    TensorInfo words = t.get("module/bert/embeddings/word_embeddings");
    assertEquals(DataType.DT_FLOAT, words.dtype());
    assertArrayEquals(new long[] {30522, 768}, words.shape());
    assertArrayEquals(
        new long[] {768, 3072},
        t.get("module/bert/encoder/layer_11/intermediate/dense/kernel").shape());
    assertEquals(
        12, t.keySet().stream().filter(k -> k.endsWith("attention/self/query/kernel")).count());
    assertTrue(t.containsKey("module/bert/pooler/dense/kernel"));
  }

  @Test
  void readsWhatSaveV2Wrote(@TempDir Path dir) throws IOException {
    Path prefix = dir.resolve("ckpt");
    TinyBert.save(
        prefix,
        Map.of(
            "a/matrix", new TinyBert.Tensor(new long[] {2, 3}, new float[6]),
            "b/vector", new TinyBert.Tensor(new long[] {4}, new float[4]),
            "c/scalar", new TinyBert.Tensor(new long[] {}, new float[1])));
    Map<String, TensorInfo> t = CheckpointIndex.read(Path.of(prefix + ".index")).tensors();
    assertEquals(3, t.size());
    assertArrayEquals(new long[] {2, 3}, t.get("a/matrix").shape());
    assertArrayEquals(new long[] {4}, t.get("b/vector").shape());
    assertArrayEquals(new long[] {}, t.get("c/scalar").shape());
    assertEquals(DataType.DT_FLOAT, t.get("c/scalar").dtype());
  }

  @Test
  void aMissingOrMalformedIndexNamesTheFile(@TempDir Path dir) throws IOException {
    Path missing = dir.resolve("none.index");
    IOException e = assertThrows(IOException.class, () -> CheckpointIndex.read(missing));
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    Path garbage = Files.write(dir.resolve("bad.index"), new byte[100]);
    e = assertThrows(IOException.class, () -> CheckpointIndex.read(garbage));
    assertTrue(e.getMessage().contains(garbage + " is malformed"), e.getMessage());
  }
}

package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Named models other than the default come from the jar Maven keeps in the local repository, so
 * that serving the default model never downloads every model; a missing one names the command that
 * fetches it.
 */
class ModelCacheTest {

  @Test
  void aModelFileIsReadFromItsJarInTheLocalRepositoryOrItsAbsenceNamesTheFetch(@TempDir Path repo)
      throws Exception {
    String artifact = "org.example.models:tiny-model:1.2.3";
    String previous = System.getProperty("maven.repo.local");
    System.setProperty("maven.repo.local", repo.toString());
    try {
      assertFalse(ModelCache.available("tiny.onnx", artifact));
      ModelLoadException missing =
          assertThrows(ModelLoadException.class, () -> ModelCache.resource("tiny.onnx", artifact));
      assertTrue(
          missing
              .getMessage()
              .contains("mvn dependency:get -Dartifact=" + artifact + " -Dtransitive=false"),
          missing.getMessage());

      Path jar = repo.resolve("org/example/models/tiny-model/1.2.3/tiny-model-1.2.3.jar");
      Files.createDirectories(jar.getParent());
      try (OutputStream out = Files.newOutputStream(jar);
          ZipOutputStream zip = new ZipOutputStream(out)) {
        zip.putNextEntry(new ZipEntry("tiny.onnx"));
        zip.write("weights".getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
      assertTrue(ModelCache.available("tiny.onnx", artifact));
      try (InputStream in = ModelCache.resource("tiny.onnx", artifact)) {
        assertEquals("weights", new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
      assertThrows(ModelLoadException.class, () -> ModelCache.resource("other.onnx", artifact));
    } finally {
      if (previous == null) {
        System.clearProperty("maven.repo.local");
      } else {
        System.setProperty("maven.repo.local", previous);
      }
    }
  }

  @Test
  void aModelIsUnpackedOnceIntoTheCacheFolderTheSettingsName(@TempDir Path cache) throws Exception {
    int[] writes = {0};
    ModelCache.Writer writer =
        dir -> {
          writes[0]++;
          Files.writeString(dir.resolve("vocab.txt"), "[PAD]");
        };
    Path first = ModelCache.unpacked(cache, "tiny-1.0", writer);
    Path again = ModelCache.unpacked(cache, "tiny-1.0", writer);
    assertEquals(cache.resolve("tiny-1.0"), first);
    assertEquals(first, again);
    assertEquals(1, writes[0], "unpacked once");
    assertTrue(Files.isRegularFile(first.resolve("vocab.txt")));
    // -model_cache_dir reaches the engine as a setting, not through a system property
    org.bertserving.cluster.ServingSettings settings =
        org.bertserving.server.TestNodes.settings(
            java.util.Map.of("bert-serving.engine.model-cache-dir", cache.toString()));
    assertEquals(cache, settings.engine().cacheDir());
  }
}

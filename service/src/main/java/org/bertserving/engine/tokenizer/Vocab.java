package org.bertserving.engine.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A BERT {@code vocab.txt}: one word piece a line, the id is the line number. */
public final class Vocab {
  public static final String UNK = "[UNK]";
  public static final String CLS = "[CLS]";
  public static final String SEP = "[SEP]";
  public static final String PAD = "[PAD]";

  private final Map<String, Integer> ids;
  private final String[] tokens;
  private final int unkId;

  private Vocab(List<String> lines) {
    ids = new HashMap<>(lines.size() * 2);
    tokens = new String[lines.size()];
    for (int i = 0; i < tokens.length; i++) {
      // as Google's load_vocab: stripped, a later duplicate wins
      tokens[i] = lines.get(i).strip();
      ids.put(tokens[i], i);
    }
    Integer unk = ids.get(UNK);
    if (unk == null) {
      throw new IllegalArgumentException("vocabulary has no " + UNK + " token");
    }
    unkId = unk;
  }

  public static Vocab of(List<String> lines) {
    return new Vocab(lines);
  }

  public static Vocab load(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return read(in);
    } catch (NoSuchFileException e) {
      throw new IOException("vocabulary " + file + " not found", e);
    } catch (IllegalArgumentException e) {
      throw new IOException("vocabulary " + file + ": " + e.getMessage(), e);
    }
  }

  public static Vocab read(InputStream in) throws IOException {
    List<String> lines = new ArrayList<>();
    BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    for (String line; (line = reader.readLine()) != null; ) {
      lines.add(line);
    }
    return new Vocab(lines);
  }

  public boolean contains(String token) {
    return ids.containsKey(token);
  }

  /** The id of a token, {@code [UNK]}'s for unknown tokens. */
  public int id(String token) {
    Integer id = ids.get(token);
    return id == null ? unkId : id;
  }

  public String token(int id) {
    return tokens[id];
  }

  public int size() {
    return tokens.length;
  }
}

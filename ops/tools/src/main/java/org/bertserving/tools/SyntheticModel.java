package org.bertserving.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.bertserving.engine.BertConfig;

/**
 * The model folder a {@link SyntheticBackend} worker loads, and texts for it: a Google BERT folder
 * with the least the engine asks for ({@code bert_config.json}, {@code vocab.txt}, an empty {@code
 * bert_model.ckpt.index} that the synthetic backend never reads). The vocabulary is 256 common
 * English words, a few suffix pieces and the letters, so the worker's real WordPiece tokenizer does
 * real work on texts of those words.
 */
public final class SyntheticModel {
  private static final String[] WORDS =
      ("the a of to and in is it that for on with as was by at from this be are or an have not"
              + " they which one you were all we can her has there been if more when will would who"
              + " so no out up into do than time only new some could these two may first then any"
              + " like my now over such our man me even most made after also did many before must"
              + " through back years where much your way well down should because each just those"
              + " people how too little state good very make world still own see men work long get"
              + " here between both life being under never day same another know while last might"
              + " us great old year off come since against go came right used take three house city"
              + " water river light night music story market garden window table paper letter"
              + " school church field road train ship horse dog cat bird tree flower stone fire"
              + " wind rain snow cloud morning evening winter summer spring autumn king queen child"
              + " mother father brother sister friend doctor teacher farmer soldier student village"
              + " island forest mountain valley ocean lake bridge tower castle kitchen bread cheese"
              + " apple coffee milk sugar salt honey wine glass cup plate knife chair door wall"
              + " floor roof street corner station office bank shop price money gold silver iron"
              + " wood cotton paint color voice song dance game play walk talk read write sing cook"
              + " open close build carry catch quiet loud quick slow happy bright dark warm cold"
              + " green")
          .split(" ");

  private static final String[] SUFFIXES = {"s", "ing", "ed", "ly", "er"};

  private SyntheticModel() {}

  /** Writes the folder into {@code dir}; vectors {@code dim} wide. */
  public static Path write(Path dir, int dim) throws IOException {
    return write(dir, dim, 0);
  }

  /**
   * Writes the folder into {@code dir}, its vocabulary's ordinary pieces rotated by {@code variant}
   * places (0: none). Two folders of different variants tokenize every text into the same pieces
   * under other ids, so the synthetic vectors of one model differ from the other's in every row: a
   * row answered by the wrong model's worker is caught as misplaced.
   */
  public static Path write(Path dir, int dim, int variant) throws IOException {
    Files.createDirectories(dir);
    List<String> specials = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");
    Set<String> vocab = new LinkedHashSet<>();
    vocab.addAll(List.of(".", ",", "!", "?"));
    vocab.addAll(List.of(WORDS));
    for (String suffix : SUFFIXES) {
      vocab.add("##" + suffix);
    }
    for (char c = 'a'; c <= 'z'; c++) {
      vocab.add(String.valueOf(c));
      vocab.add("##" + c);
    }
    List<String> pieces = new ArrayList<>(vocab);
    java.util.Collections.rotate(pieces, variant);
    List<String> lines = new ArrayList<>(specials);
    lines.addAll(pieces);
    Files.write(dir.resolve("vocab.txt"), lines);
    int heads = dim % 12 == 0 ? 12 : 1;
    new BertConfig(lines.size(), dim, 12, heads, 4 * dim, "gelu", 512, 2)
        .write(dir.resolve("bert_config.json"));
    Files.write(dir.resolve("bert_model.ckpt.index"), new byte[0]);
    return dir;
  }

  /**
   * {@code n} texts of 18 to 34 words (about 25 to 44 word pieces with [CLS] and [SEP]), every one
   * different in its first three words, which no truncation cuts: no two rows share their tokens.
   */
  public static List<String> texts(int n, long seed) {
    if (n > 1 << 24) {
      throw new IllegalArgumentException("at most 2^24 distinct texts, not " + n);
    }
    Random random = new Random(seed);
    List<String> texts = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      StringBuilder s = new StringBuilder();
      s.append(WORDS[i & 255])
          .append(' ')
          .append(WORDS[(i >> 8) & 255])
          .append(' ')
          .append(WORDS[(i >> 16) & 255]);
      int words = 18 + random.nextInt(17);
      for (int w = 3; w < words; w++) {
        s.append(random.nextInt(12) == 0 ? ", " : " ").append(WORDS[random.nextInt(256)]);
        if (random.nextInt(5) == 0) {
          s.append(SUFFIXES[random.nextInt(SUFFIXES.length)]);
        }
      }
      texts.add(s.append('.').toString());
    }
    return texts;
  }
}

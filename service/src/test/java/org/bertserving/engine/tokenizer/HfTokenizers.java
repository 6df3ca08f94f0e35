package org.bertserving.engine.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Path;

/** Hugging Face's own tokenizers (DJL's binding, offline), the reference for the engine's. */
public final class HfTokenizers {
  private HfTokenizers() {}

  /** The tokenizer of a {@code tokenizer.json}: no special tokens, no truncation or padding. */
  public static HuggingFaceTokenizer open(Path file) throws IOException {
    System.setProperty("ai.djl.offline", "true");
    return HuggingFaceTokenizer.builder()
        .optTokenizerPath(file)
        .optTruncation(false)
        .optPadding(false)
        .optAddSpecialTokens(false)
        .build();
  }
}

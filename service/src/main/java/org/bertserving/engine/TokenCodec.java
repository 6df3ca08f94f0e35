package org.bertserving.engine;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bertserving.engine.tokenizer.FullTokenizer;
import org.bertserving.engine.tokenizer.Vocab;

/**
 * Text to tokens and ids back to text, as text-embeddings-inference exposes a model's tokenizer: a
 * text's tokens (after its prompt, by the model's {@link FullTokenizer}) with their ids and where
 * they came from ({@code /tokenize}), and ids back to text ({@code /decode}). What the model is fed
 * is {@link Featurizer}'s. Thread-safe.
 */
public final class TokenCodec {
  /** Kept out of decoded text unless asked for, as Hugging Face's {@code skip_special_tokens}. */
  private static final Set<String> SPECIAL =
      Set.of(Vocab.CLS, Vocab.SEP, Vocab.PAD, Vocab.UNK, "[MASK]");

  /** WordPiece's decoder clean-up: spaces Hugging Face removes before punctuation and clitics. */
  private static final String[][] CLEANUP = {
    {" .", "."},
    {" ?", "?"},
    {" !", "!"},
    {" ,", ","},
    {" ' ", "'"},
    {" n't", "n't"},
    {" 'm", "'m"},
    {" do not", " don't"},
    {" 's", "'s"},
    {" 've", "'ve"},
    {" 're", "'re"}
  };

  /**
   * One token as text-embeddings-inference returns it.
   *
   * @param text the text it came from (the token itself for special tokens)
   * @param start first byte of {@code text} in the UTF-8 input (with its prompt), or {@code null}
   *     for special tokens
   * @param stop the byte after it, or {@code null}
   */
  public record Token(int id, String text, boolean special, Integer start, Integer stop) {}

  private final FullTokenizer tokenizer;
  private final Prompts prompts;
  private final Set<String> special;

  TokenCodec(FullTokenizer tokenizer, Prompts prompts) {
    this.tokenizer = tokenizer;
    this.prompts = prompts;
    this.special = new HashSet<>(SPECIAL);
    special.addAll(tokenizer.addedTokens());
  }

  /**
   * The tokens of {@code text} (after the call's prompt, or the configured one), with {@code [CLS]}
   * and {@code [SEP]} around them when {@code addSpecialTokens}; not truncated.
   *
   * @throws InvalidInputException for an unknown prompt name
   */
  public List<Token> tokenize(String text, boolean addSpecialTokens, CallOptions options) {
    String input = prompts.prefix(options) + text;
    List<String> tokens = tokenizer.tokenize(input);
    int[][] offsets = tokenizer.offsets(input, tokens);
    int[] ids = tokenizer.convertTokensToIds(tokens);
    List<Token> out = new ArrayList<>(tokens.size() + 2);
    if (addSpecialTokens) {
      out.add(new Token(tokenizer.vocab().id(Vocab.CLS), Vocab.CLS, true, null, null));
    }
    for (int i = 0; i < tokens.size(); i++) {
      int[] span = offsets[i];
      // special where the text holds the token itself: [UNK] for a word the vocabulary cannot
      // spell is that word, with its offsets, as text-embeddings-inference answers
      boolean isSpecial =
          tokenizer.addedTokens().contains(tokens.get(i))
              && (span == null || input.startsWith(tokens.get(i), span[0]));
      if (span == null || isSpecial) {
        out.add(new Token(ids[i], tokens.get(i), isSpecial, null, null));
      } else {
        out.add(
            new Token(
                ids[i],
                input.substring(span[0], span[1]),
                false,
                utf8Length(input, span[0]),
                utf8Length(input, span[1])));
      }
    }
    if (addSpecialTokens) {
      out.add(new Token(tokenizer.vocab().id(Vocab.SEP), Vocab.SEP, true, null, null));
    }
    return out;
  }

  /**
   * Ids back to text as Hugging Face's WordPiece decoder: continuation pieces joined to the word
   * before, spaces before punctuation removed; ids outside the vocabulary are skipped.
   */
  public String decode(List<Integer> ids, boolean skipSpecialTokens) {
    Vocab vocab = tokenizer.vocab();
    StringBuilder out = new StringBuilder();
    boolean first = true;
    for (int id : ids) {
      if (id < 0 || id >= vocab.size()) {
        continue;
      }
      String token = vocab.token(id);
      if (skipSpecialTokens && special.contains(token)) {
        continue;
      }
      if (!first) {
        token = token.startsWith("##") ? token.substring(2) : " " + token;
      }
      for (String[] rule : CLEANUP) {
        token = token.replace(rule[0], rule[1]);
      }
      out.append(token);
      first = false;
    }
    return out.toString();
  }

  private static int utf8Length(String s, int end) {
    return s.substring(0, end).getBytes(StandardCharsets.UTF_8).length;
  }
}

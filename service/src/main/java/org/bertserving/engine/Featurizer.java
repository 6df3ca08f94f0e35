package org.bertserving.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bertserving.engine.tokenizer.FullTokenizer;
import org.bertserving.engine.tokenizer.Vocab;

/**
 * Turns texts (or pre-tokenized texts) into {@link InputFeatures} exactly as bert-as-service's
 * {@code convert_lst_to_features}: sentence pairs, truncation, special tokens, masks. Unlike the
 * original it refuses bad input as a whole instead of skipping it.
 */
public final class Featurizer {
  /** {@code a ||| b}; greedy like the original, so the last separator splits. */
  private static final Pattern PAIR = Pattern.compile("(.*) \\|\\|\\| (.*)");

  private static final String PAIR_TOKEN = "|||";

  /**
   * A pair given as an object (what the rerank and predict routes send): these two fields; an
   * object of {@code text} alone is one text that is never split ({@link #literal}).
   */
  public static final String TEXT = "text";

  public static final String TEXT_PAIR = "text_pair";

  private final FullTokenizer tokenizer;
  private final Vocab vocab;
  private final Integer maxSeqLen;
  private final int maxPositions;
  private final boolean maskClsSep;
  private final boolean noSpecialToken;
  private final boolean fixedEmbedLength;
  private final Prompts prompts;

  public Featurizer(
      FullTokenizer tokenizer, Vocab vocab, EngineSettings settings, int maxPositions) {
    this.tokenizer = tokenizer;
    this.vocab = vocab;
    this.maxSeqLen = settings.maxSeqLen();
    this.maxPositions = maxPositions;
    this.maskClsSep = settings.maskClsSep();
    this.noSpecialToken = settings.noSpecialToken();
    this.fixedEmbedLength = settings.fixedEmbedLength();
    this.prompts = Prompts.of(settings);
  }

  /**
   * The features of every input plus the length {@code T} that token-level output is padded to.
   *
   * @param inputs strings, or (when {@code isTokenized}) lists of strings
   * @throws InvalidInputException naming the first bad input; nothing is featurized then
   */
  public Featurized featurize(List<?> inputs, boolean isTokenized) {
    return featurize(inputs, isTokenized, CallOptions.DEFAULTS);
  }

  /**
   * As {@link #featurize(List, boolean)}, with a prompt of the call's own.
   *
   * @param callPrompt prefixed to each text (its tokens to each token list) before truncation;
   *     {@code null} = the configured {@code -prompt}
   */
  public Featurized featurize(List<?> inputs, boolean isTokenized, String callPrompt) {
    return featurize(inputs, isTokenized, new CallOptions(callPrompt, null, null));
  }

  /**
   * As {@link #featurize(List, boolean)}, with a call's own prompt (or named prompt) and
   * truncation: the end or the start of a long input is cut, or (with {@code truncate} false) the
   * input is refused, as text-embeddings-inference does.
   *
   * @throws InvalidInputException naming the first bad or (when refused) too long input
   */
  public Featurized featurize(List<?> inputs, boolean isTokenized, CallOptions options) {
    validate(inputs, isTokenized);
    String prefix = prompts.prefix(options);
    List<String> promptTokens =
        isTokenized && !prefix.isEmpty() ? tokenizer.tokenize(prefix) : List.of();
    List<List<String>> first = new ArrayList<>(inputs.size());
    List<List<String>> second = new ArrayList<>(inputs.size());
    // whether each input is laid out as a pair: one of two fields keeps its second [SEP] when its
    // second text tokenizes to nothing, as Hugging Face's tokenizers (and so a cross-encoder) do;
    // bert-as-service's "a ||| " and token lists are pairs only with a second side
    List<Boolean> paired = new ArrayList<>(inputs.size());
    for (Object input : inputs) {
      if (isTokenized) {
        splitTokenized((List<?>) input, first, second);
        if (!promptTokens.isEmpty()) {
          List<String> withPrompt = new ArrayList<>(promptTokens);
          withPrompt.addAll(first.get(first.size() - 1));
          first.set(first.size() - 1, withPrompt);
        }
      } else if (input instanceof Map<?, ?> pair) {
        // a pair as two fields: a query or document holding " ||| " stays whole
        first.add(tokenizer.tokenize((prefix + pair.get(TEXT)).strip()));
        Object side = pair.get(TEXT_PAIR);
        second.add(side == null ? List.of() : tokenizer.tokenize(((String) side).strip()));
      } else {
        splitText(prefix + input, first, second);
      }
      paired.add(
          input instanceof Map<?, ?> pair
              ? pair.get(TEXT_PAIR) != null
              : !second.get(second.size() - 1).isEmpty());
    }
    int seqLen = maxSeqLen != null ? maxSeqLen : batchLength(first, second, paired);
    List<InputFeatures> rows = new ArrayList<>(inputs.size());
    for (int i = 0; i < first.size(); i++) {
      rows.add(
          features(i, first.get(i), second.get(i), paired.get(i), seqLen, isTokenized, options));
    }
    int outputLength = fixedEmbedLength && maxSeqLen == null ? maxPositions : seqLen;
    return new Featurized(rows, outputLength);
  }

  /**
   * The tokenizer and prompts of this model as a codec, for {@code /tokenize} and {@code /decode}.
   */
  public TokenCodec tokenCodec() {
    return new TokenCodec(tokenizer, prompts);
  }

  /**
   * A sentence pair as one input ({@code [CLS] a [SEP] b [SEP]}, segment ids 0 then 1): the form
   * that travels in a request's texts as {@code {"text": a, "text_pair": b}}.
   */
  public static Map<String, String> pair(String a, String b) {
    Map<String, String> pair = new java.util.LinkedHashMap<>();
    pair.put(TEXT, a);
    pair.put(TEXT_PAIR, b);
    return pair;
  }

  /**
   * {@code text} as one text whatever it holds: bert-as-service's {@code "a ||| b"} is a sentence
   * pair on its own API only, and it refuses a text of spaces alone; OpenAI's and
   * text-embeddings-inference's APIs embed the string as written, spaces alone as {@code [CLS]
   * [SEP]}. Such texts travel as {@code {"text": text}}, any other as the string.
   */
  public static Object literal(String text) {
    return text != null && (text.contains(PAIR_TOKEN) || text.isBlank())
        ? Map.of(TEXT, text)
        : text;
  }

  /** Rows and the length token-level output is padded to. */
  public record Featurized(List<InputFeatures> rows, int outputLength) {}

  /**
   * The checks that need no vocabulary, so that a frontend without the model can refuse bad input
   * before any of it is dispatched.
   *
   * @throws InvalidInputException naming the first bad input
   */
  public static void validate(List<?> inputs, boolean isTokenized) {
    if (inputs == null || inputs.isEmpty()) {
      throw new InvalidInputException(-1, "no texts given: expected a non-empty list");
    }
    for (int i = 0; i < inputs.size(); i++) {
      Object input = inputs.get(i);
      if (isTokenized) {
        if (!(input instanceof List<?> list)) {
          throw new InvalidInputException(
              i, "expected a list of tokens (is_tokenized=true) but got " + describe(input));
        }
        if (list.isEmpty()) {
          throw new InvalidInputException(i, "token list is empty");
        }
        for (int j = 0; j < list.size(); j++) {
          if (!(list.get(j) instanceof String token) || token.isEmpty()) {
            throw new InvalidInputException(
                i, "token " + j + " is not a non-empty string but " + describe(list.get(j)));
          }
        }
        int separator = list.indexOf(PAIR_TOKEN);
        if (separator == 0 || separator == list.size() - 1) {
          throw new InvalidInputException(
              i,
              "sentence pair has an empty side: tokens before and " + "after \"|||\" are needed");
        }
      } else if (input == null) {
        throw new InvalidInputException(i, "text is null");
      } else if (input instanceof Map<?, ?> pair) {
        validatePair(i, pair);
      } else if (!(input instanceof String text)) {
        throw new InvalidInputException(
            i,
            "expected a string but got "
                + describe(input)
                + (input instanceof List ? " (send is_tokenized=true for token lists)" : ""));
      } else if (text.isBlank()) { // "a |||", "||| b": one sentence each, as the original reads
        throw new InvalidInputException(i, "text is empty");
      }
    }
  }

  private static void validatePair(int index, Map<?, ?> pair) {
    boolean alone = pair.keySet().equals(java.util.Set.of(TEXT));
    if (!alone && !pair.keySet().equals(java.util.Set.of(TEXT, TEXT_PAIR))) {
      throw new InvalidInputException(
          index,
          "expected a string, a text {\"text\": ...} or a sentence pair {\"text\": ...,"
              + " \"text_pair\": ...} but got an object with "
              + pair.keySet());
    }
    boolean empty = true;
    for (String field : alone ? List.of(TEXT) : List.of(TEXT, TEXT_PAIR)) {
      Object side = pair.get(field);
      String what = alone ? "text" : "sentence pair's " + field;
      if (!(side instanceof String text)) {
        throw new InvalidInputException(index, what + " is not a string but " + describe(side));
      }
      empty &= text.isEmpty();
    }
    // as text-embeddings-inference counts it: a pair with one empty side is a pair still ([CLS] a
    // [SEP] [SEP], as Hugging Face's tokenizers lay it out: a reranker scores an empty document),
    // and a text as written ({"text": ...}, from OpenAI's and TEI's routes) of spaces alone is
    // [CLS] [SEP]; only nothing at all is refused
    if (empty) {
      throw new InvalidInputException(
          index, alone ? "text is empty" : "sentence pair is empty: text and text_pair both are");
    }
  }

  private void splitText(String text, List<List<String>> a, List<List<String>> b) {
    String line = text.strip();
    Matcher pair = PAIR.matcher(line);
    if (pair.matches()) {
      a.add(tokenizer.tokenize(pair.group(1)));
      b.add(tokenizer.tokenize(pair.group(2)));
    } else {
      a.add(tokenizer.tokenize(line));
      b.add(List.of());
    }
  }

  private void splitTokenized(List<?> list, List<List<String>> a, List<List<String>> b) {
    List<String> tokens = new ArrayList<>(list.size());
    int separator = -1;
    for (int j = 0; j < list.size(); j++) {
      String token = (String) list.get(j);
      if (separator < 0 && token.equals(PAIR_TOKEN)) {
        separator = j;
      }
      // unknown tokens become [UNK] so that the tokens shown match the ids fed
      tokens.add(vocab.contains(token) ? token : Vocab.UNK);
    }
    if (separator < 0) {
      a.add(tokens);
      b.add(List.of());
    } else {
      a.add(new ArrayList<>(tokens.subList(0, separator)));
      b.add(new ArrayList<>(tokens.subList(separator + 1, tokens.size())));
    }
  }

  private static String describe(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof String) {
      return "a string";
    }
    if (value instanceof List) {
      return "a list";
    }
    // JSON's names, not Java's: the callers speak JSON
    if (value instanceof Number) {
      return "a number";
    }
    if (value instanceof Boolean) {
      return "a boolean";
    }
    return value instanceof java.util.Map ? "an object" : "a " + value.getClass().getSimpleName();
  }

  /** {@code max_seq_len=NONE}: the longest text of this batch plus its special tokens. */
  private int batchLength(
      List<List<String>> first, List<List<String>> second, List<Boolean> paired) {
    int longest = 0;
    boolean anyPair = false;
    for (int i = 0; i < first.size(); i++) {
      longest = Math.max(longest, first.get(i).size() + second.get(i).size());
      anyPair |= paired.get(i);
    }
    return Math.min(longest + (anyPair ? 3 : 2), maxPositions);
  }

  private InputFeatures features(
      int index,
      List<String> a,
      List<String> b,
      boolean pair,
      int seqLen,
      boolean isTokenized,
      CallOptions options) {
    boolean special = !(noSpecialToken && isTokenized && !pair);
    int extra = special ? (pair ? 3 : 2) : 0;
    int given = a.size() + b.size() + extra;
    if (given > seqLen && options.refuseLong()) {
      throw new InvalidInputException(
          index,
          "`inputs` must have less than "
              + seqLen
              + " tokens. Given: "
              + given
              + " (truncate: true cuts it)");
    }
    boolean left = options.cutLeft();
    if (pair) {
      a = new ArrayList<>(a);
      b = new ArrayList<>(b);
      truncatePair(a, b, seqLen - 3, left);
    } else if (a.size() > seqLen - extra) {
      a = left ? a.subList(a.size() - (seqLen - extra), a.size()) : a.subList(0, seqLen - extra);
    }
    int edge = maskClsSep ? 0 : 1;
    int length = special ? a.size() + 2 + (pair ? b.size() + 1 : 0) : a.size();
    List<String> tokens = new ArrayList<>(length);
    int[] segments = new int[length];
    int[] mask = new int[length];
    int p = 0;
    if (special) {
      tokens.add(Vocab.CLS);
      mask[p++] = edge;
    }
    for (String t : a) {
      tokens.add(t);
      mask[p++] = 1;
    }
    if (special) {
      tokens.add(Vocab.SEP);
      mask[p++] = edge;
    }
    if (pair) {
      for (String t : b) {
        tokens.add(t);
        segments[p] = 1;
        mask[p++] = 1;
      }
      tokens.add(Vocab.SEP);
      segments[p] = 1;
      mask[p++] = edge;
    }
    return new InputFeatures(
        tokenizer.convertTokensToIds(tokens), segments, mask, List.copyOf(tokens));
  }

  /**
   * Google's {@code _truncate_seq_pair}: drop from the end of the longer one first (from its start
   * when cutting on the left, as Hugging Face's longest-first truncation does).
   */
  private static void truncatePair(List<String> a, List<String> b, int maxLength, boolean left) {
    while (a.size() + b.size() > maxLength) {
      List<String> longer = a.size() > b.size() ? a : b;
      longer.remove(left ? 0 : longer.size() - 1);
    }
  }
}

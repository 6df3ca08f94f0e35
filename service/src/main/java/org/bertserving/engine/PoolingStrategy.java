package org.bertserving.engine;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How token vectors become one vector per text; names and meaning as in bert-as-service 1.10. */
public enum PoolingStrategy {
  /** Token vectors times the input mask: a {@code [T, D]} matrix per text. */
  NONE,
  /** Sum over the masked positions divided by (count + 1e-10). */
  REDUCE_MEAN,
  /** Maximum over positions after subtracting 1e30 at masked positions. */
  REDUCE_MAX,
  /** REDUCE_MEAN and REDUCE_MAX concatenated: {@code 2 * D} wide. */
  REDUCE_MEAN_MAX,
  /** The vector at position 0 ({@code [CLS]}). */
  FIRST_TOKEN,
  /** The vector at the final {@code [SEP]} (the last real position). */
  LAST_TOKEN,
  /** The pooler's tanh output of the final layer, whatever {@code pooling_layer} says. */
  CLS_POOLED,
  /** Softmax over the labels of a fine-tuned classifier head. */
  CLASSIFICATION,
  /** Sigmoid of a fine-tuned regression head. */
  REGRESSION,
  /**
   * The raw logits of a fine-tuned sequence-classification head (a cross-encoder reranker, a
   * classifier): one number per label, sigmoid or softmax left to whoever asked.
   */
  LOGITS;

  /** Parses a name as given on the command line, accepting the original's aliases. */
  public static PoolingStrategy parse(String name) {
    String upper = name.trim().toUpperCase(Locale.ROOT);
    switch (upper) {
      case "CLS_TOKEN":
        return FIRST_TOKEN;
      case "SEP_TOKEN":
        return LAST_TOKEN;
      default:
        try {
          return valueOf(upper);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "unknown pooling_strategy '"
                  + name
                  + "', expected one of "
                  + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "))
                  + ", CLS_TOKEN, SEP_TOKEN");
        }
    }
  }

  /** Whether the result keeps one vector per token. */
  public boolean isTokenLevel() {
    return this == NONE;
  }

  /** Whether the result comes from the pooler or a head on it rather than from pooling_layer. */
  public boolean usesPooler() {
    return this == CLS_POOLED || usesHead();
  }

  /** Whether a fine-tuned head ({@code output_weights}, {@code output_bias}) is needed. */
  public boolean usesHead() {
    return this == CLASSIFICATION || this == REGRESSION || this == LOGITS;
  }
}

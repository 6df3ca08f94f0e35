package org.bertserving.client;

/**
 * Per-request options, as the Python client's {@code encode(..., is_tokenized, show_tokens)}.
 *
 * @param isTokenized the inputs are token lists
 * @param showTokens return the tokens the model saw
 */
public record EncodeOptions(boolean isTokenized, boolean showTokens) {
  public static final EncodeOptions DEFAULT = new EncodeOptions(false, false);

  public static EncodeOptions withTokens() {
    return new EncodeOptions(false, true);
  }
}

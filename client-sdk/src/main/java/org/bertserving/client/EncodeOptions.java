package org.bertserving.client;

/**
 * Per-request options: the Python client's {@code encode(..., is_tokenized, show_tokens)}, plus
 * what sentence-embedding models take (a prompt such as E5's {@code "query: "}, normalization,
 * Matryoshka dimensions).
 *
 * @param isTokenized the inputs are token lists
 * @param showTokens return the tokens the model saw
 * @param prompt prefixed to each text before tokenization; {@code null}: the server's
 * @param normalize L2-normalize the vectors; {@code null}: as the server does
 * @param dimensions keep the first N components of each vector; {@code null}: all
 * @param model the name of the model to encode with, when the cluster serves several; {@code null}:
 *     the cluster's default model
 */
public record EncodeOptions(
    boolean isTokenized,
    boolean showTokens,
    String prompt,
    Boolean normalize,
    Integer dimensions,
    String model) {
  public static final EncodeOptions DEFAULT = new EncodeOptions(false, false);

  public EncodeOptions(boolean isTokenized, boolean showTokens) {
    this(isTokenized, showTokens, null, null, null, null);
  }

  /** Options for the cluster's default model. */
  public EncodeOptions(
      boolean isTokenized,
      boolean showTokens,
      String prompt,
      Boolean normalize,
      Integer dimensions) {
    this(isTokenized, showTokens, prompt, normalize, dimensions, null);
  }

  public static EncodeOptions withTokens() {
    return new EncodeOptions(false, true);
  }

  /** These options with a prompt of their own, e.g. {@code "query: "}. */
  public EncodeOptions prompt(String prompt) {
    return new EncodeOptions(isTokenized, showTokens, prompt, normalize, dimensions, model);
  }

  /** These options with L2 normalization on or off. */
  public EncodeOptions normalize(boolean normalize) {
    return new EncodeOptions(isTokenized, showTokens, prompt, normalize, dimensions, model);
  }

  /** These options keeping the first {@code dimensions} components of each vector. */
  public EncodeOptions dimensions(int dimensions) {
    return new EncodeOptions(isTokenized, showTokens, prompt, normalize, dimensions, model);
  }

  /** These options for the model named {@code model} (as {@code GET /v1/models} lists it). */
  public EncodeOptions model(String model) {
    return new EncodeOptions(isTokenized, showTokens, prompt, normalize, dimensions, model);
  }
}

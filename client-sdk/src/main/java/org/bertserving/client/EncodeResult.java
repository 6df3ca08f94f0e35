package org.bertserving.client;

import java.util.List;

/**
 * Vectors in input order, with the tokens when asked for.
 *
 * @param vectors {@code [B, D]} for pooled servers, {@code null} for {@code pooling_strategy=NONE}
 * @param tokenVectors {@code [B, T, D]} for {@code pooling_strategy=NONE}, otherwise {@code null}
 * @param tokens per input the tokens fed to the model, or {@code null} when not asked for
 */
public record EncodeResult(
    float[][] vectors, float[][][] tokenVectors, List<List<String>> tokens) {}

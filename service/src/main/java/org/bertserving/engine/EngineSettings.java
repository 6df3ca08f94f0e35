package org.bertserving.engine;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything the engine needs to know, named after bert-as-service's flags ({@code max_seq_len} is
 * {@code maxSeqLen}). Built once at start; {@link #validate()} fails fast naming the flag.
 *
 * <p>{@code maxSeqLen}, {@code poolingLayers}, {@code poolingStrategy} and {@code normalize} that
 * the builder is not given come from the model ({@link ModelDefaults}): bert-as-service's for
 * Google's BERTs, sentence-transformers' for the embedding models. The record holds the resolved
 * values.
 *
 * @param model a named model ({@code -model all-minilm-l6-v2}), or {@code null}
 * @param modelDir Google BERT, SavedModel or Hugging Face folder; {@code null} with no {@code
 *     model} for the default model
 * @param maxSeqLen truncation length including {@code [CLS]}/{@code [SEP]}; {@code null} = NONE
 *     (the longest text of each batch, capped by {@code max_position_embeddings})
 * @param poolingLayers layer indices, negative from the end ({@code -1} = last encoder layer)
 * @param doLowerCase {@code null} = as the model says (uncased unless it declares otherwise)
 * @param deviceId GPU index, or {@code -1} for the CPU
 * @param visibleDevices the process's one {@code visible_device_list} (the GPUs of {@code
 *     -device_map}, e.g. {@code "0,1"}), {@code ""} for every GPU; TensorFlow numbers the listed
 *     GPUs 0, 1, ... inside the process
 * @param tokenBudget at most this many rows x padded length in one TF run
 * @param normalize L2-normalize every output vector
 * @param prompt prefixed to every text before tokenization ({@code "query: "}); {@code ""} = none
 * @param backend the class of the {@link ModelBackend.Opener} a server's workers open their model
 *     with ({@code bert-serving.engine.backend}); {@code ""} = TensorFlow's
 * @param servedName the name the model is served under ({@code -served_model_name}), or {@code
 *     null} for the name it has (see {@link #modelName()})
 * @param sizedSessions whether a CPU model may keep sessions by run size ({@code
 *     engine/tf/SizedSessions}, where oneDNN keeps weights laid out), probed at load; off: one
 *     session, a start without probes and one copy of the weights less ({@code
 *     bert-serving.engine.sized-sessions})
 * @param products which kernel runs the encoder's products on the CPU ({@code
 *     bert-serving.engine.products})
 * @param sessionChoices where the sessions by run size keep their probes' choice between starts: a
 *     folder, {@code ""} for {@code session-choices} in the model cache, or {@code off} ({@code
 *     bert-serving.engine.session-choices})
 */
public record EngineSettings(
    Path modelDir,
    Path tunedModelDir,
    String ckptName,
    String configName,
    Integer maxSeqLen,
    List<Integer> poolingLayers,
    PoolingStrategy poolingStrategy,
    boolean maskClsSep,
    boolean noSpecialToken,
    boolean fixedEmbedLength,
    Boolean doLowerCase,
    int numLabels,
    int deviceId,
    String visibleDevices,
    int intraOpThreads,
    int interOpThreads,
    boolean fp16,
    boolean bf16,
    boolean xla,
    double gpuMemoryFraction,
    int maxBatchSize,
    int tokenBudget,
    String model,
    boolean normalize,
    String prompt,
    Path cacheDir,
    String backend,
    List<String> labels,
    String servedName,
    boolean sizedSessions,
    ProductKernel products,
    String sessionChoices) {

  public EngineSettings {
    products = products == null ? ProductKernel.MEASURED : products;
    sessionChoices = sessionChoices == null ? "" : sessionChoices.trim();
    servedName = servedName == null || servedName.isBlank() ? null : servedName.trim();
    poolingLayers = List.copyOf(poolingLayers);
    labels = labels == null ? List.of() : List.copyOf(labels);
    prompt = prompt == null ? "" : prompt;
    backend = backend == null ? "" : backend.trim();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Checks what can be checked without the model; the model-dependent checks run at load. */
  public EngineSettings validate() {
    require(maxSeqLen == null || maxSeqLen >= 3, "max_seq_len", maxSeqLen, "at least 3 or NONE");
    require(!poolingLayers.isEmpty(), "pooling_layer", poolingLayers, "at least one layer");
    require(numLabels >= 1, "num_labels", numLabels, "at least 1");
    require(maxBatchSize >= 1, "max_batch_size", maxBatchSize, "at least 1");
    require(tokenBudget >= 1, "token_budget", tokenBudget, "at least 1");
    require(
        gpuMemoryFraction > 0 && gpuMemoryFraction <= 1,
        "gpu_memory_fraction",
        gpuMemoryFraction,
        "in (0, 1]");
    require(intraOpThreads >= 0 && interOpThreads >= 0, "threads", intraOpThreads, ">= 0");
    require(!(fp16 && bf16), "bf16", "with -fp16", "one of -fp16 (GPUs) and -bf16 (CPUs)");
    require(model == null || modelDir == null, "model", model, "no -model_dir beside it");
    return this;
  }

  /**
   * The name of the model served: its {@code -served_model_name}, else the {@code -model} name, the
   * {@code -model_dir} folder's name, or the default model's.
   */
  public String modelName() {
    if (servedName != null) {
      return servedName;
    }
    if (model != null) {
      return NamedModel.of(model).modelName();
    }
    if (modelDir != null) {
      Path name = modelDir.toAbsolutePath().normalize().getFileName();
      return name == null ? modelDir.toString() : name.toString();
    }
    return NamedModel.BERT_BASE_UNCASED.modelName();
  }

  /** What the model is for, which decides the routes that serve it. */
  public ModelKind kind() {
    return ModelKind.of(poolingStrategy, labels.size());
  }

  private static void require(boolean ok, String flag, Object value, String expected) {
    if (!ok) {
      throw new IllegalArgumentException("-" + flag + " " + value + ": expected " + expected);
    }
  }

  /** A builder holding these values, the model-dependent ones as if given. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.modelDir = modelDir;
    b.tunedModelDir = tunedModelDir;
    b.ckptName = ckptName;
    b.configName = configName;
    b.maxSeqLen(maxSeqLen);
    b.poolingLayers = poolingLayers;
    b.poolingStrategy = poolingStrategy;
    b.maskClsSep = maskClsSep;
    b.noSpecialToken = noSpecialToken;
    b.fixedEmbedLength = fixedEmbedLength;
    b.doLowerCase = doLowerCase;
    b.numLabels = numLabels;
    b.deviceId = deviceId;
    b.visibleDevices = visibleDevices;
    b.intraOpThreads = intraOpThreads;
    b.interOpThreads = interOpThreads;
    b.fp16 = fp16;
    b.bf16 = bf16;
    b.xla = xla;
    b.gpuMemoryFraction = gpuMemoryFraction;
    b.maxBatchSize = maxBatchSize;
    b.tokenBudget = tokenBudget;
    b.model = model;
    b.normalize = normalize;
    b.prompt = prompt;
    b.cacheDir = cacheDir;
    b.backend = backend;
    b.labels = labels;
    b.servedName = servedName;
    b.sizedSessions = sizedSessions;
    b.products = products;
    b.sessionChoices = sessionChoices;
    return b;
  }

  /** reference.conf, read once. */
  private static final class Reference {
    static final Config CONFIG = ConfigFactory.defaultReference();
  }

  /** Defaults are reference.conf's (bert-as-service's), or the model's where it has its own. */
  public static final class Builder {
    private Path modelDir;
    private Path tunedModelDir;
    private String ckptName;
    private String configName;
    private Integer maxSeqLen;
    private boolean maxSeqLenGiven;
    private List<Integer> poolingLayers;
    private PoolingStrategy poolingStrategy;
    private boolean maskClsSep;
    private boolean noSpecialToken;
    private boolean fixedEmbedLength;
    private Boolean doLowerCase;
    private int numLabels;
    private int deviceId = -1;
    private String visibleDevices = "";
    private int intraOpThreads;
    private int interOpThreads;
    private boolean fp16;
    private boolean bf16;
    private boolean xla;
    private double gpuMemoryFraction;
    private int maxBatchSize;
    private int tokenBudget;
    private String model;
    private Boolean normalize;
    private String prompt;
    private Path cacheDir;
    private String backend;
    private List<String> labels;
    private String servedName;
    private boolean sizedSessions;
    private ProductKernel products;
    private String sessionChoices;

    /** The defaults of reference.conf, the one place they are written (bert-as-service's). */
    private Builder() {
      Config reference = Reference.CONFIG;
      Config e = reference.getConfig("bert-serving.engine");
      ckptName = e.getString("ckpt-name");
      configName = e.getString("config-name");
      numLabels = e.getInt("num-labels");
      gpuMemoryFraction = e.getDouble("gpu-memory-fraction");
      tokenBudget = e.getInt("token-budget");
      intraOpThreads = e.getInt("intra-op-threads");
      interOpThreads = e.getInt("inter-op-threads");
      prompt = e.getString("prompt");
      backend = e.getString("backend");
      sizedSessions = e.getBoolean("sized-sessions");
      try {
        // reference.conf under the JVM's -D options, where a wrong value reaches every builder
        products = ProductKernel.parse(e.getString("products"));
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("bert-serving.engine.products: " + ex.getMessage(), ex);
      }
      sessionChoices = e.getString("session-choices");
      maxBatchSize = reference.getInt("bert-serving.workers.max-batch-size");
    }

    public Builder modelDir(Path v) {
      modelDir = v;
      return this;
    }

    public Builder tunedModelDir(Path v) {
      tunedModelDir = v;
      return this;
    }

    public Builder ckptName(String v) {
      ckptName = v;
      return this;
    }

    public Builder configName(String v) {
      configName = v;
      return this;
    }

    public Builder maxSeqLen(Integer v) {
      maxSeqLen = v;
      maxSeqLenGiven = true;
      return this;
    }

    public Builder poolingLayers(List<Integer> v) {
      poolingLayers = v;
      return this;
    }

    public Builder poolingStrategy(PoolingStrategy v) {
      poolingStrategy = v;
      return this;
    }

    public Builder maskClsSep(boolean v) {
      maskClsSep = v;
      return this;
    }

    public Builder noSpecialToken(boolean v) {
      noSpecialToken = v;
      return this;
    }

    public Builder fixedEmbedLength(boolean v) {
      fixedEmbedLength = v;
      return this;
    }

    public Builder doLowerCase(Boolean v) {
      doLowerCase = v;
      return this;
    }

    public Builder numLabels(int v) {
      numLabels = v;
      return this;
    }

    public Builder deviceId(int v) {
      deviceId = v;
      return this;
    }

    public Builder visibleDevices(String v) {
      visibleDevices = v;
      return this;
    }

    public Builder intraOpThreads(int v) {
      intraOpThreads = v;
      return this;
    }

    public Builder interOpThreads(int v) {
      interOpThreads = v;
      return this;
    }

    public Builder fp16(boolean v) {
      fp16 = v;
      return this;
    }

    public Builder bf16(boolean v) {
      bf16 = v;
      return this;
    }

    public Builder xla(boolean v) {
      xla = v;
      return this;
    }

    public Builder gpuMemoryFraction(double v) {
      gpuMemoryFraction = v;
      return this;
    }

    public Builder maxBatchSize(int v) {
      maxBatchSize = v;
      return this;
    }

    public Builder tokenBudget(int v) {
      tokenBudget = v;
      return this;
    }

    /** A named model ({@link NamedModel}); {@code null} for {@code modelDir} or the default. */
    public Builder model(String v) {
      model = v;
      return this;
    }

    /** {@code null} = as the model says (on for sentence-embedding models). */
    public Builder normalize(Boolean v) {
      normalize = v;
      return this;
    }

    public Builder prompt(String v) {
      prompt = v;
      return this;
    }

    /** Where models from Maven jars are unpacked; {@code null}: BERT_SERVING_CACHE or ~/.cache. */
    public Builder cacheDir(Path v) {
      cacheDir = v;
      return this;
    }

    /**
     * The {@link ModelBackend.Opener} class a server's workers open their model with; {@code ""} =
     * TensorFlow's.
     */
    public Builder backend(String v) {
      backend = v;
      return this;
    }

    /**
     * The labels of a {@link PoolingStrategy#LOGITS} head; {@code null} = the model's ({@code
     * id2label}), else {@code LABEL_0..} for {@code numLabels}.
     */
    public Builder labels(List<String> v) {
      labels = v;
      return this;
    }

    /** The name to serve the model under; {@code null} or blank: its own. */
    public Builder servedName(String v) {
      servedName = v;
      return this;
    }

    /**
     * Whether a CPU model may keep sessions by run size, probed at load (the default); {@code
     * false}: one session, for a faster start and less memory.
     */
    public Builder sizedSessions(boolean v) {
      sizedSessions = v;
      return this;
    }

    public Builder products(ProductKernel v) {
      products = v;
      return this;
    }

    /** A folder, {@code ""} (the model cache's) or {@code off}; see {@link #sessionChoices()}. */
    public Builder sessionChoices(String v) {
      sessionChoices = v;
      return this;
    }

    public EngineSettings build() {
      String name = model == null || model.isBlank() ? null : NamedModel.of(model).modelName();
      boolean complete =
          maxSeqLenGiven
              && poolingLayers != null
              && poolingStrategy != null
              && normalize != null
              && labels != null;
      ModelDefaults d = complete ? null : ModelDefaults.of(name, modelDir);
      PoolingStrategy strategy = poolingStrategy != null ? poolingStrategy : d.poolingStrategy();
      List<String> heads = headLabels(strategy, labels != null ? labels : d.labels());
      return new EngineSettings(
              modelDir,
              tunedModelDir,
              ckptName,
              configName,
              maxSeqLenGiven ? maxSeqLen : d.maxSeqLen(),
              poolingLayers != null ? poolingLayers : d.poolingLayers(),
              strategy,
              maskClsSep,
              noSpecialToken,
              fixedEmbedLength,
              doLowerCase,
              heads.isEmpty() ? numLabels : heads.size(),
              deviceId,
              visibleDevices,
              intraOpThreads,
              interOpThreads,
              fp16,
              bf16,
              xla,
              gpuMemoryFraction,
              maxBatchSize,
              tokenBudget,
              name,
              normalize != null ? normalize : d.normalize(),
              prompt,
              cacheDir,
              backend,
              heads,
              servedName,
              sizedSessions,
              products,
              sessionChoices)
          .validate();
    }

    /** A Hugging Face classifier names its labels; a Google checkpoint's head has numLabels. */
    private List<String> headLabels(PoolingStrategy strategy, List<String> named) {
      if (strategy != PoolingStrategy.LOGITS) {
        return List.of();
      }
      if (!named.isEmpty()) {
        return named;
      }
      List<String> generated = new java.util.ArrayList<>();
      for (int i = 0; i < numLabels; i++) {
        generated.add("LABEL_" + i);
      }
      return generated;
    }
  }
}

package org.bertserving.engine.tf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.ModelBackend;
import org.bertserving.engine.ModelFiles;
import org.bertserving.engine.ModelLoadException;
import org.bertserving.engine.PoolingStrategy;
import org.bertserving.engine.hf.HfWeights;
import org.bertserving.engine.hf.OnnxModel;
import org.bertserving.engine.hf.Safetensors;
import org.bertserving.engine.tf.CheckpointIndex.TensorInfo;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.TensorFlow;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.buffer.FloatDataBuffer;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GPUOptions;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.OptimizerOptions;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TFloating;

/**
 * BERT in one TensorFlow session on one device: the graph of {@link BertGraph}, its variables
 * restored by TensorFlow's own {@code RestoreV2} from a checkpoint, or fed from a safetensors or
 * ONNX file ({@link FedWeights}); one run per batch.
 */
public final class TfBertBackend implements ModelBackend {
  /** Tensors restored per {@code RestoreV2} run: bounds the transient copy during loading. */
  private static final int RESTORE_CHUNK = 16;

  private final Graph graph;
  private final Session session;
  private final BertGraph<?> bert;
  private final boolean tokenLevel;
  private final boolean feedsLastIndex;
  private final int dim;
  private final BertConfig config;

  /**
   * The options of every run: in the caller's thread for a session of one thread on the CPU whose
   * layers are not split.
   */
  private final RunOptions runOptions;

  private final java.util.Set<Long> shapes = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private TfBertBackend(
      Graph graph,
      Session session,
      BertGraph<?> bert,
      PoolingStrategy strategy,
      int dim,
      BertConfig config,
      RunOptions runOptions) {
    this.config = config;
    this.runOptions = runOptions;
    this.graph = graph;
    this.session = session;
    this.bert = bert;
    this.tokenLevel = strategy.isTokenLevel();
    this.feedsLastIndex = strategy == PoolingStrategy.LAST_TOKEN;
    this.dim = dim;
  }

  /** One step of giving a new session its weights. */
  @FunctionalInterface
  interface LoadStep {
    void run(Session session);
  }

  /** How the weights reach the variables of a graph, once it is built. */
  @FunctionalInterface
  interface WeightSource {
    List<LoadStep> steps(Ops root, Ops device, BertGraph<?> bert);
  }

  /**
   * Opens a model's weights: checks the settings against the model before anything is built, then
   * builds and loads.
   *
   * @param declared the model's {@code bert_config.json} or {@code config.json}, or {@code null} to
   *     derive it from the tensors
   */
  public static TfBertBackend open(ModelFiles files, BertConfig declared, EngineSettings settings)
      throws IOException {
    return open(files, declared, settings, 1);
  }

  /**
   * Opens a model's weights with each encoder layer cut into {@code parts} chains that TensorFlow's
   * inter-op threads run side by side ({@link BertGraph}'s split layer; 1: none): for a session of
   * one intra-op thread and {@code parts} inter-op threads, on the CPU.
   */
  public static TfBertBackend open(
      ModelFiles files, BertConfig declared, EngineSettings settings, int parts)
      throws IOException {
    Path origin = files.weights();
    BertConfig config;
    WeightSource source;
    switch (files.format()) {
      case CHECKPOINT -> {
        CheckpointLayout layout = CheckpointLayout.inspect(origin, declared);
        config = layout.config();
        source = (root, device, bert) -> restoreSteps(root, device, bert, layout);
      }
      case SAFETENSORS -> {
        HfWeights hf = HfWeights.of(origin, Safetensors.readAll(origin), declared, null);
        config = hf.config();
        source = (root, device, bert) -> FedWeights.steps(root, device, bert, hf);
      }
      default -> {
        OnnxModel onnx = OnnxModel.read(origin);
        HfWeights hf = HfWeights.of(origin, onnx.tensorsByModuleName(), declared, onnx);
        config = hf.config();
        source = (root, device, bert) -> FedWeights.steps(root, device, bert, hf);
      }
    }
    int layerCount = config.numHiddenLayers();
    Integer maxSeqLen = settings.maxSeqLen();
    if (maxSeqLen != null && maxSeqLen > config.maxPositionEmbeddings()) {
      throw new IllegalArgumentException(
          "-max_seq_len "
              + maxSeqLen
              + " exceeds the model's "
              + "max_position_embeddings "
              + config.maxPositionEmbeddings());
    }
    List<Integer> layers = new ArrayList<>();
    for (int layer : settings.poolingLayers()) {
      if (layer < -layerCount || layer >= layerCount) {
        throw new IllegalArgumentException(
            "-pooling_layer "
                + layer
                + " is out of range for a "
                + "model with "
                + layerCount
                + " layers (use -"
                + layerCount
                + " .. "
                + (layerCount - 1)
                + ")");
      }
      layers.add(layer < 0 ? layerCount + layer : layer);
    }
    return load(config, origin, source, layers, settings, parts);
  }

  /** The config the graph was built from (declared or derived from the checkpoint). */
  @Override
  public BertConfig config() {
    return config;
  }

  /**
   * Builds the graph for {@code settings} and gives it its weights from {@code source}.
   *
   * @param layers pooling layers as 0-based encoder indices
   */
  static TfBertBackend load(
      BertConfig config,
      Path origin,
      WeightSource source,
      List<Integer> layers,
      EngineSettings settings,
      int parts) {
    Graph graph = new Graph();
    try {
      Ops root = Ops.create(graph);
      Ops device =
          root.withDevice(
              device(
                  settings.deviceId() < 0
                      ? -1
                      : virtualDevice(settings.deviceId(), settings.visibleDevices())));
      BertGraph.Kernels kernels =
          new BertGraph.Kernels(
              oneDnnLayerNorm(settings),
              eigenAttention(settings),
              ProductProbe.fused(settings, config));
      BertGraph<?> bert =
          settings.bf16()
              ? new BertGraph<>(
                  device,
                  TBfloat16.class,
                  config,
                  layers,
                  settings.poolingStrategy(),
                  settings.numLabels(),
                  kernels,
                  parts)
              : settings.fp16()
                  ? new BertGraph<>(
                      device,
                      TFloat16.class,
                      config,
                      layers,
                      settings.poolingStrategy(),
                      settings.numLabels(),
                      kernels,
                      parts)
                  : new BertGraph<>(
                      device,
                      TFloat32.class,
                      config,
                      layers,
                      settings.poolingStrategy(),
                      settings.numLabels(),
                      kernels,
                      parts);
      List<LoadStep> steps = source.steps(root, device, bert);
      long width = bert.output.shape().size(-1);
      Session session = new Session(graph, sessionConfig(settings));
      try {
        for (LoadStep step : steps) {
          step.run(session);
        }
        if (bert.zeroes != null) {
          try (var done = session.runner().addTarget(bert.zeroes).run()) {
            // the assignment is the point
          }
        }
        return new TfBertBackend(
            graph,
            session,
            bert,
            settings.poolingStrategy(),
            (int) width,
            config,
            runOptions(settings, parts));
      } catch (TensorFlowException e) {
        session.close(); // before the graph, whose close waits for its sessions
        throw new ModelLoadException(
            "cannot restore the weights of " + origin + ": " + e.getMessage(), e);
      } catch (RuntimeException e) {
        session.close();
        throw e;
      }
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  /**
   * In the caller's thread for a session of one intra-op thread on the CPU whose layers are not
   * split: its ops would otherwise be handed one by one to TensorFlow's inter-op threads, while
   * only one thread computes at a time. A split session's chains are the inter-op threads' to run.
   */
  static RunOptions runOptions(EngineSettings s, int parts) {
    RunOptions.Builder options = RunOptions.newBuilder();
    if (s.deviceId() < 0 && s.intraOpThreads() == 1 && parts == 1) {
      options.setInterOpThreadPool(-1);
    }
    return options.build();
  }

  static DeviceSpec device(int deviceId) {
    return deviceId < 0
        ? DeviceSpec.newBuilder().deviceType(DeviceSpec.DeviceType.CPU).deviceIndex(0).build()
        : DeviceSpec.newBuilder()
            .deviceType(DeviceSpec.DeviceType.GPU)
            .deviceIndex(deviceId)
            .build();
  }

  /** The version of the TensorFlow native library this process loaded. */
  public static String tensorflowVersion() {
    return org.tensorflow.TensorFlow.version();
  }

  /**
   * The index TensorFlow gives GPU {@code physical} inside this process: its position in the {@code
   * visible_device_list} ({@code "2,3"}: GPU 3 is {@code /device:GPU:1}).
   */
  static int virtualDevice(int physical, String visibleDevices) {
    if (visibleDevices == null || visibleDevices.isBlank()) {
      return physical;
    }
    java.util.List<String> visible = java.util.Arrays.asList(visibleDevices.split(","));
    int virtual = visible.indexOf(String.valueOf(physical));
    if (virtual < 0) {
      throw new IllegalArgumentException(
          "GPU " + physical + " is not in the visible devices " + visibleDevices);
    }
    return virtual;
  }

  /**
   * The process's GPU options. The first session of a process that touches a GPU creates that GPU's
   * allocator with its options, and every later session shares it: whatever opens a session first
   * (the device probe, then each worker) must pass these same options, or the memory fraction of
   * the workers is silently ignored.
   */
  static GPUOptions gpuOptions(String visibleDevices, double memoryFraction) {
    return GPUOptions.newBuilder()
        .setAllowGrowth(true)
        .setVisibleDeviceList(visibleDevices)
        .setPerProcessGpuMemoryFraction(memoryFraction)
        .build();
  }

  /**
   * Whether the layer norms are oneDNN's kernel: on the CPU, with a TensorFlow build that has it,
   * unless XLA compiles the graph or TensorFlow's oneDNN ops were turned off ({@code
   * TF_ENABLE_ONEDNN_OPTS=0}); and not in a session of one intra-op thread. Such a session serves
   * small runs, where the kernel's fixed cost of about 25 µs a call outweighs its single pass: on
   * the AMD EPYC of the README, one MiniLM text of 8 tokens ran 6-15 % faster with the layer norms
   * composed of TensorFlow's ops (one thread or two-part, float32 or bf16), 62 tokens 1-3 %, and
   * 127 tokens or 32 texts of 32 tokens on one thread as fast (within 1 %).
   */
  static boolean oneDnnLayerNorm(EngineSettings s) {
    return s.deviceId() < 0
        && !s.xla()
        && oneDnnOps()
        && OneDnn.LAYER_NORM
        && s.intraOpThreads() != 1;
  }

  /**
   * Whether attention's batch products and head transposes are Eigen's kernels instead of oneDNN's:
   * in sessions of one intra-op thread on the CPU with TensorFlow's oneDNN ops on (without them
   * they are Eigen's anyway), as for the layer norms ({@link #oneDnnLayerNorm}), and not under XLA.
   * oneDNN's fixed cost a call outweighs its speed on the few rows such a session serves: one
   * 8-token MiniLM text ran 6 % faster on the two-part session (2.31 against 2.46 ms), 17 tokens 5
   * %, 33 tokens 2 %, on one thread 4, 2 and 0 %; four 33-token texts as fast (within 1 %).
   */
  static boolean eigenAttention(EngineSettings s) {
    return s.deviceId() < 0 && !s.xla() && oneDnnOps() && s.intraOpThreads() == 1;
  }

  /** Whether TensorFlow runs its oneDNN ops on the CPU (unless {@code TF_ENABLE_ONEDNN_OPTS=0}). */
  public static boolean oneDnnOps() {
    return envSwitch("TF_ENABLE_ONEDNN_OPTS", true);
  }

  /**
   * An environment switch as TensorFlow reads it ({@code 1}/{@code true}, {@code 0}/{@code false}),
   * {@code unset} when it is not set.
   */
  static boolean envSwitch(String name, boolean unset) {
    return isOn(System.getenv(name), unset);
  }

  /** A switch's value as TensorFlow reads it; {@code unset} for none. */
  static boolean isOn(String value, boolean unset) {
    if (value == null || value.isBlank()) {
      return unset;
    }
    return value.trim().equals("1") || value.trim().equalsIgnoreCase("true");
  }

  /** Whether this TensorFlow build registers oneDNN's layer norm op, looked up once. */
  private static final class OneDnn {
    static final boolean LAYER_NORM =
        TensorFlow.registeredOpList().getOpList().stream()
            .anyMatch(op -> op.getName().equals("_MklLayerNorm"));
  }

  /**
   * One session's options. The GPU options are process-wide in TensorFlow (one allocator per GPU
   * per process), so every worker of a node passes the same {@code visible_device_list} and memory
   * fraction: workers on one GPU share its fraction. A CPU worker creates no GPU device at all.
   */
  static ConfigProto sessionConfig(EngineSettings s) {
    ConfigProto.Builder config =
        ConfigProto.newBuilder()
            .setAllowSoftPlacement(true)
            .setIntraOpParallelismThreads(s.intraOpThreads())
            .setInterOpParallelismThreads(s.interOpThreads())
            .setGpuOptions(gpuOptions(s.visibleDevices(), s.gpuMemoryFraction()));
    if (s.deviceId() < 0) {
      config.putDeviceCount("GPU", 0);
    }
    if (s.xla()) {
      config.setGraphOptions(
          GraphOptions.newBuilder()
              .setOptimizerOptions(
                  OptimizerOptions.newBuilder()
                      .setGlobalJitLevel(OptimizerOptions.GlobalJitLevel.ON_1)));
    }
    return config.build();
  }

  /**
   * {@code RestoreV2} on the CPU in chunks, each followed by assigns to the device variables; a
   * fused weight is the concatenation of its sources on the last axis.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static List<LoadStep> restoreSteps(
      Ops root, Ops device, BertGraph<?> bert, CheckpointLayout layout) {
    Ops cpu = root.withDevice(device(-1)).withSubScope("restore");
    Operand<TString> prefix = cpu.constant(layout.checkpoint().toString());
    List<? extends BertGraph.Weight<?>> weights = bert.weights();
    List<LoadStep> restores = new ArrayList<>();
    for (int start = 0; start < weights.size(); start += RESTORE_CHUNK) {
      List<? extends BertGraph.Weight<?>> chunk =
          weights.subList(start, Math.min(weights.size(), start + RESTORE_CHUNK));
      List<String> keys = new ArrayList<>();
      List<DataType> dtypes = new ArrayList<>();
      for (BertGraph.Weight<?> weight : chunk) {
        for (String source : weight.sources()) {
          TensorInfo info = layout.require(source, weight.sourceShape());
          keys.add(info.name());
          dtypes.add(info.dtype());
        }
      }
      String[] slices = new String[keys.size()];
      java.util.Arrays.fill(slices, "");
      Operation restore =
          cpu.scope()
              .opBuilder("RestoreV2", "RestoreV2")
              .addInput(prefix.asOutput())
              .addInput(
                  cpu.constant(NdArrays.vectorOfObjects(keys.toArray(new String[0]))).asOutput())
              .addInput(cpu.constant(NdArrays.vectorOfObjects(slices)).asOutput())
              .setAttr("dtypes", dtypes.toArray(new DataType[0]))
              .build();
      List<Op> assigns = new ArrayList<>();
      int output = 0;
      for (BertGraph.Weight weight : chunk) {
        List<Operand<?>> parts = new ArrayList<>();
        for (int i = 0; i < weight.sources().size(); i++) {
          parts.add(weight.of(cpu, restore.output(output++)));
        }
        Operand value =
            parts.size() == 1 ? parts.get(0) : cpu.concat((List) parts, cpu.constant(-1));
        Class<? extends TFloating> type = weight.variable().type();
        if (value.type() != type) {
          value = device.dtypes.cast(value, type);
        }
        assigns.add(device.assign(weight.variable(), value));
      }
      Op chunkDone = root.withControlDependencies(assigns).noOp();
      restores.add(
          session -> {
            // a run with targets only fetches nothing, but its Result is a resource all the same
            try (var done = session.runner().addTarget(chunkDone).run()) {
              // the assignments are the point
            }
          });
    }
    return restores;
  }

  @Override
  public float[][] run(List<InputFeatures> given, int batch, int length) {
    List<InputFeatures> rows = given;
    if (batch > given.size()) {
      // pad with copies of the first row: a valid row for every pooling, discarded after the run
      rows = new ArrayList<>(given);
      while (rows.size() < batch) {
        rows.add(given.get(0));
      }
    }
    shapes.add(((long) rows.size() << 32) | length);
    return fed(
        rows,
        length,
        runOptions,
        runner -> {
          try (Result result = runner.run()) {
            return rows(((TFloat32) result.get(0)).asRawTensor().data().asFloats(), given, length);
          }
        });
  }

  /**
   * {@code run} given a runner fed {@code rows} padded to {@code length} (and their last tokens'
   * positions) and fetching the output; the fed tensors are closed after it.
   */
  private <R> R fed(
      List<InputFeatures> rows, int length, RunOptions options, Function<Session.Runner, R> run) {
    int[] last = rows.stream().mapToInt(r -> r.length() - 1).toArray();
    try (Padded padded = Padded.of(rows, length);
        TInt32 lastT = TInt32.vectorOf(last)) {
      Session.Runner runner =
          session
              .runner()
              .feed(bert.inputIds, padded.ids())
              .feed(bert.inputMask, padded.mask())
              .feed(bert.segmentIds, padded.segments())
              .setOptions(options);
      if (feedsLastIndex) {
        runner.feed(bert.lastIndex, lastT);
      }
      return run.apply(runner.fetch(bert.output));
    }
  }

  /**
   * How many ops of each type one traced run of {@code rows} executed ({@code FULL_TRACE}): the
   * graph as TensorFlow's optimizations left it, not as built.
   */
  Map<String, Integer> opsRun(List<InputFeatures> rows) {
    int length = rows.stream().mapToInt(InputFeatures::length).max().orElse(0);
    RunOptions traced =
        runOptions.toBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build();
    return fed(
        rows,
        length,
        traced,
        runner -> {
          try (Result result = runner.runAndFetchMetadata()) {
            Map<String, Integer> byType = new java.util.TreeMap<>();
            for (var device : result.getMetadata().orElseThrow().getStepStats().getDevStatsList()) {
              for (var node : device.getNodeStatsList()) {
                // "name = Type(inputs)"; the executor's own entries have other labels
                String label = node.getTimelineLabel();
                int type = label.indexOf(" = ");
                int inputs = label.indexOf('(', type + 3);
                if (type >= 0 && inputs > type) {
                  byType.merge(label.substring(type + 3, inputs), 1, Integer::sum);
                }
              }
            }
            return byType;
          }
        });
  }

  /**
   * One array per row, read straight from the output tensor's memory (one copy on the way to the
   * reply): the pooled vector, or the row's own tokens for token-level output.
   */
  private float[][] rows(FloatDataBuffer output, List<InputFeatures> rows, int length) {
    float[][] out = new float[rows.size()][];
    for (int r = 0; r < out.length; r++) {
      int stride = tokenLevel ? length * dim : dim;
      int size = tokenLevel ? rows.get(r).length() * dim : dim;
      out[r] = new float[size];
      output.slice((long) r * stride, size).read(out[r]);
    }
    return out;
  }

  /** The session's graph, for tests that read its ops. */
  Graph graph() {
    return graph;
  }

  @Override
  public int dim() {
    return dim;
  }

  @Override
  public int shapes() {
    return shapes.size();
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}

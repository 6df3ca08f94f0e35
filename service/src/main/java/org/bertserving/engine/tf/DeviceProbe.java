package org.bertserving.engine.tf;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bertserving.engine.GpuPlatform;
import org.bertserving.engine.ModelLoadException;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * Proves a GPU before a worker is built on it: one op placed on the device with soft placement off,
 * so that a missing driver, CUDA, cuDNN or device stops the node instead of letting every worker
 * fall back to the CPU in silence.
 */
public final class DeviceProbe {
  private static final Pattern AVAILABLE = Pattern.compile("available devices are \\[([^\\]]*)\\]");

  private DeviceProbe() {}

  /**
   * How many GPUs this process can place an op on (devices 0, 1, ... in turn), for workers on every
   * visible GPU when no {@code -device_map} is given; 0 on the CPU build.
   */
  public static int visibleGpus(double memoryFraction) {
    if (!GpuPlatform.gpuBuild()) {
      return 0; // the CPU build has no GPU devices, and probing it would only log warnings
    }
    int n = 0;
    while (n < 64 && usable(n, "", memoryFraction) == null) {
      n++;
    }
    return n;
  }

  /**
   * Throws, in one line naming what is missing, unless an op runs on GPU {@code physical}.
   *
   * @param visibleDevices the process's {@code visible_device_list}: TensorFlow numbers the GPUs in
   *     that list 0, 1, ...
   * @param memoryFraction the workers' {@code -gpu_memory_fraction}: the probe's session is the
   *     process's first on the GPU, so its options are the ones TensorFlow keeps
   */
  public static void prove(int physical, String visibleDevices, double memoryFraction) {
    int virtual = TfBertBackend.virtualDevice(physical, visibleDevices);
    String error = usable(virtual, visibleDevices, memoryFraction);
    if (error != null) {
      throw new ModelLoadException(
          "GPU "
              + physical
              + " (-device_map) is not usable: "
              + error
              + "; "
              + GpuPlatform.diagnosis()
              + " (or run on the CPU with -cpu)");
    }
  }

  /** Soft placement off, and the GPU options every worker of the process will pass. */
  static ConfigProto probeConfig(String visibleDevices, double memoryFraction) {
    return ConfigProto.newBuilder()
        .setAllowSoftPlacement(false)
        .setGpuOptions(TfBertBackend.gpuOptions(visibleDevices, memoryFraction))
        .build();
  }

  /** {@code null} when an op runs on {@code /device:GPU:virtual}, else what TensorFlow said. */
  private static String usable(int virtual, String visibleDevices, double memoryFraction) {
    ConfigProto config = probeConfig(visibleDevices, memoryFraction);
    try (Graph graph = new Graph()) {
      Ops tf =
          Ops.create(graph)
              .withDevice(
                  DeviceSpec.newBuilder()
                      .deviceType(DeviceSpec.DeviceType.GPU)
                      .deviceIndex(virtual)
                      .build());
      Operand<TFloat32> probe =
          tf.withName("device_probe").math.add(tf.constant(1f), tf.constant(1f));
      try (Session session = new Session(graph, config);
          var result = session.runner().fetch(probe).run()) {
        return null;
      }
    } catch (
        RuntimeException e) { // TensorFlow reports a placement failure as IllegalArgumentException
      String message = String.valueOf(e.getMessage());
      Matcher m = AVAILABLE.matcher(message);
      return m.find()
          ? "TensorFlow sees only ["
              + m.group(1).replace("/job:localhost/replica:0/task:0/device:", "").strip()
              + "]"
          : message.lines().findFirst().orElse(message);
    }
  }
}

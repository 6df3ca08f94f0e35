package org.bertserving.engine.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.bertserving.cluster.ServingSettings;
import org.bertserving.engine.EngineSettings;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ConfigProto;

/**
 * TensorFlow's GPU options are process-wide (one allocator per GPU per process): every worker of a
 * node carries the same visible_device_list and memory fraction, addresses its GPU by its place in
 * that list, and a CPU worker creates no GPU device at all.
 */
class SessionConfigTest {

  @Test
  void everyWorkerOfANodeCarriesOneVisibleDeviceList() {
    ServingSettings settings =
        TestNodes.settings(
            Map.of(
                "bert-serving.workers.device-map",
                List.of(3, 1, 3),
                "bert-serving.engine.gpu-memory-fraction",
                0.4));
    for (int worker = 0; worker < 3; worker++) {
      EngineSettings engine = settings.engineFor(worker, settings.deviceMap());
      ConfigProto config = TfBertBackend.sessionConfig(engine);
      assertEquals("1,3", config.getGpuOptions().getVisibleDeviceList(), "worker " + worker);
      assertEquals(0.4, config.getGpuOptions().getPerProcessGpuMemoryFraction(), 1e-9);
      assertEquals(0, config.getDeviceCountOrDefault("GPU", -1) == 0 ? 1 : 0, "GPUs stay visible");
    }
    // the device probe opens the process's first GPU session: with the workers' GPU options, or
    // TensorFlow would keep its allocator without the memory fraction
    EngineSettings first = settings.engineFor(0, settings.deviceMap());
    assertEquals(
        TfBertBackend.sessionConfig(first).getGpuOptions(),
        DeviceProbe.probeConfig(first.visibleDevices(), first.gpuMemoryFraction()).getGpuOptions());
    assertEquals(
        false, DeviceProbe.probeConfig("1,3", 0.4).getAllowSoftPlacement(), "no silent fallback");
    assertEquals(3, settings.engineFor(0, settings.deviceMap()).deviceId());
    assertEquals(1, TfBertBackend.virtualDevice(3, "1,3"), "GPU 3 is the process's GPU:1");
    assertEquals(0, TfBertBackend.virtualDevice(1, "1,3"));
    assertThrows(IllegalArgumentException.class, () -> TfBertBackend.virtualDevice(2, "1,3"));

    ServingSettings cpu =
        TestNodes.settings(
            Map.of(
                "bert-serving.workers.device-map",
                List.of(0, 1),
                "bert-serving.workers.cpu",
                true));
    EngineSettings onCpu = cpu.engineFor(0, cpu.deviceMap());
    assertEquals(-1, onCpu.deviceId(), "-cpu wins over -device_map");
    assertEquals(
        0,
        TfBertBackend.sessionConfig(onCpu).getDeviceCountOrThrow("GPU"),
        "a CPU worker initialises no GPU");
  }
}

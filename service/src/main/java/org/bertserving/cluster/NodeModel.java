package org.bertserving.cluster;

import java.util.List;
import org.bertserving.engine.EngineSettings;

/**
 * One model a worker node serves, and how many workers it runs for it (per device as for one model:
 * at least one a GPU of the device map).
 */
public record NodeModel(EngineSettings engine, int numWorker) {

  /** The engine settings of worker {@code index} of this model under {@code devices}. */
  public EngineSettings engineFor(int index, List<Integer> devices) {
    if (devices.isEmpty()) {
      return engine.toBuilder().deviceId(-1).visibleDevices("").build();
    }
    // the one process-wide visible_device_list: the distinct GPUs, ascending
    String visible =
        devices.stream()
            .distinct()
            .sorted()
            .map(String::valueOf)
            .collect(java.util.stream.Collectors.joining(","));
    return engine.toBuilder()
        .deviceId(devices.get(index % devices.size()))
        .visibleDevices(visible)
        .build();
  }

  /** Workers this model runs on a node with {@code devices}: one on each GPU at least. */
  public int workers(List<Integer> devices) {
    return devices.isEmpty()
        ? numWorker
        : Math.max(numWorker, (int) devices.stream().distinct().count());
  }
}

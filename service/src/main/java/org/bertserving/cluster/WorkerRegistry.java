package org.bertserving.cluster;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The frontend's workers, plain Java: who is registered, what each was told it is, which are
 * recovering from an engine failure, and the jobs each holds (at most {@code prefetch_size}). Picks
 * the least loaded worker with room, and gives back the unfinished jobs of a worker that is gone.
 *
 * @param <W> a worker's handle (its actor reference)
 */
final class WorkerRegistry<W> {
  /** A worker that left: its jobs not yet done, and what it said it was (or {@code null}). */
  record Gone<W>(W worker, List<Job> jobs, Frontend.WorkerDescription description) {}

  private final int prefetch;

  /** Per registered worker, its jobs not yet done, in the order of registration. */
  private final Map<W, Map<Long, Job>> inFlight = new LinkedHashMap<>();

  private final Map<W, Frontend.WorkerDescription> described = new HashMap<>();

  /** Workers whose run failed: no new job until their new session describes itself. */
  private final Set<W> recovering = new HashSet<>();

  private long nextJobId;

  WorkerRegistry(int prefetch) {
    this.prefetch = prefetch;
  }

  int size() {
    return inFlight.size();
  }

  Set<W> workers() {
    return inFlight.keySet();
  }

  /** Whether every registered worker is recovering (and there is at least one). */
  boolean allRecovering() {
    return !inFlight.isEmpty() && recovering.containsAll(inFlight.keySet());
  }

  /**
   * Takes the Receptionist's listing as the truth: returns the workers it lists for the first time
   * (to be asked who they are); the ones it no longer lists leave ({@code left}).
   */
  List<W> listed(Set<W> listing, List<Gone<W>> left) {
    List<W> joined = new ArrayList<>();
    for (W worker : listing) {
      if (!inFlight.containsKey(worker)) {
        inFlight.put(worker, new LinkedHashMap<>());
        joined.add(worker);
      }
    }
    for (W known : List.copyOf(inFlight.keySet())) {
      if (!listing.contains(known)) {
        left.add(gone(known));
      }
    }
    return joined;
  }

  /** Registers {@code worker} (with no job yet); false if it already is. */
  boolean add(W worker) {
    return inFlight.putIfAbsent(worker, new LinkedHashMap<>()) == null;
  }

  private Gone<W> gone(W worker) {
    recovering.remove(worker);
    Map<Long, Job> jobs = inFlight.remove(worker);
    return new Gone<>(
        worker,
        jobs == null ? List.of() : new ArrayList<>(jobs.values()),
        described.remove(worker));
  }

  /** The least loaded worker with room that is not recovering, or {@code null}. */
  W pick() {
    W worker = null;
    int least = prefetch;
    for (Map.Entry<W, Map<Long, Job>> e : inFlight.entrySet()) {
      if (e.getValue().size() < least && !recovering.contains(e.getKey())) {
        least = e.getValue().size();
        worker = e.getKey();
      }
    }
    return worker;
  }

  /** {@code job} is now {@code worker}'s: its id. */
  long assign(W worker, Job job) {
    long id = nextJobId++;
    inFlight.get(worker).put(id, job);
    return id;
  }

  /** The job {@code worker} ended (done, failed or given back), or {@code null} if not its. */
  Job ended(W worker, long jobId) {
    Map<Long, Job> jobs = inFlight.get(worker);
    return jobs == null ? null : jobs.remove(jobId);
  }

  /** The id the next job assigned gets: every job assigned so far has a smaller one. */
  long nextJobId() {
    return nextJobId;
  }

  /**
   * Forgets the jobs of {@code worker} assigned before {@code upTo} that it says it does not hold
   * ({@link Frontend.JobsHeld}): they, or their reports, were lost (messages between nodes arrive
   * at most once) and must not hold its room for good. Returns them; a report that comes after all
   * is ignored ({@link #ended}).
   */
  List<Job> unheld(W worker, long upTo, java.util.Collection<Long> held) {
    Map<Long, Job> jobs = inFlight.get(worker);
    List<Job> lost = new ArrayList<>();
    if (jobs == null) {
      return lost;
    }
    Set<Long> holds = new HashSet<>(held);
    jobs.entrySet()
        .removeIf(
            e -> {
              boolean gone = e.getKey() < upTo && !holds.contains(e.getKey());
              if (gone) {
                lost.add(e.getValue());
              }
              return gone;
            });
    return lost;
  }

  /** A registered worker starts recovering; false if it is unknown or already recovering. */
  boolean recovering(W worker) {
    return inFlight.containsKey(worker) && recovering.add(worker);
  }

  /**
   * What a worker says it is. Returns whether its speed is news (its first description, or its
   * first since it recovered); a worker no longer registered is not described.
   */
  boolean described(W worker, Frontend.WorkerDescription description, boolean back) {
    if (!inFlight.containsKey(worker)) {
      return false;
    }
    return described.put(worker, description) == null || back;
  }

  /** A recovering worker is back; false if it was not recovering. */
  boolean back(W worker) {
    return recovering.remove(worker);
  }

  /** Workers per node address. */
  Map<String, Integer> perNode(Function<W, String> address) {
    Map<String, Integer> perNode = new java.util.TreeMap<>();
    for (W worker : inFlight.keySet()) {
      perNode.merge(address.apply(worker), 1, Integer::sum);
    }
    return perNode;
  }

  /** Each worker for {@code /status/server}: name, device, jobs in flight, versions, memory. */
  List<Map<String, Object>> status(Function<W, String> path) {
    List<Map<String, Object>> workers = new ArrayList<>();
    for (Map.Entry<W, Map<Long, Job>> e : inFlight.entrySet()) {
      Frontend.WorkerDescription description = described.get(e.getKey());
      Map<String, Object> w = new LinkedHashMap<>();
      w.put("worker", description != null ? description.name() : path.apply(e.getKey()));
      w.put("device", description != null ? description.device() : null);
      w.put("jobs_in_flight", e.getValue().size());
      if (description != null) {
        w.put("tensorflow", description.tensorflow());
        w.put("cuda_runtime", description.cudaRuntime());
        w.put("cudnn", description.cudnn());
        w.put("gpu_memory_used_mib", description.gpuMemoryUsedMib());
        w.put("gpu_memory_limit_mib", description.gpuMemoryLimitMib());
        w.put("xla_compiles_at_warm_up", description.warmCompiles());
        w.put("xla_compiles_live", description.liveCompiles());
      }
      workers.add(w);
    }
    return workers;
  }
}

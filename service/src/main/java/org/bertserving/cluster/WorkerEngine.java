package org.bertserving.cluster;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.EngineException;
import org.bertserving.engine.InputFeatures;

/**
 * A worker's engine and the threads it runs on, outside the actor, whose thread never blocks:
 * sessions, warm-ups and TensorFlow runs on one thread of the worker's own, descriptions (which may
 * ask {@code nvidia-smi}) on a blocking pool; each answers with a future the actor pipes to itself.
 * It outlives the actor's restarts, so a new session is opened only once the run before it ended.
 */
final class WorkerEngine {
  final BertEncoder encoder;
  private final ExecutorService thread;
  private final Executor blocking;

  /** Whether a warm-up was started before (by this actor instance or one before it). */
  private volatile boolean warmedUp;

  /** The speed measured at the last warm-up that worked. */
  private volatile double tokensPerSecond;

  /**
   * @param name names the engine thread
   * @param blocking where descriptions run (Akka's blocking dispatcher)
   */
  WorkerEngine(BertEncoder encoder, String name, Executor blocking) {
    this.encoder = encoder;
    this.blocking = blocking;
    // every TensorFlow call of this worker on one thread of its own: TensorFlow's oneDNN kernels
    // keep their primitives per thread, and a run from a new thread of a pool was measured 1.5x
    // slower (an 8-token query: 45 ms instead of 30 on BERT-Base here)
    this.thread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "bert-engine-" + name);
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Warms the session up and measures its speed (what {@link #describe} tells). The first warm-up
   * takes the session the encoder was loaded with; every later one (after a failure, or a restart
   * of the actor) opens a new session first. Under {@code -xla}, every shape is compiled here, so
   * that live traffic compiles none.
   */
  CompletableFuture<Void> warmUp() {
    boolean newSession = warmedUp;
    warmedUp = true;
    return CompletableFuture.runAsync(
        () -> {
          if (newSession) {
            try {
              encoder.restartSession();
            } catch (IOException e) {
              throw new EngineException("cannot open a new TensorFlow session: " + e, e);
            }
          }
          Integer maxSeqLen = encoder.settings().maxSeqLen();
          encoder.warmUp();
          tokensPerSecond =
              encoder.calibrate(
                  Math.min(Admission.FULL_JOB_ROWS, encoder.settings().maxBatchSize()),
                  Math.min(
                      maxSeqLen == null ? Admission.FULL_JOB_LENGTH : maxSeqLen,
                      Admission.FULL_JOB_LENGTH));
        },
        thread);
  }

  /**
   * A job's computation that ended: the pooled rows when the worker sends them itself ({@code null}
   * once the engine's thread sent them), the time from its start to its end (a worker starts one
   * only when none is in progress), the TensorFlow runs it took, and why its rows could not be sent
   * from the engine's thread ({@code null} if they were, or were not to be).
   */
  record Computed(float[][] vectors, long nanos, long tfRuns, RuntimeException undelivered) {}

  /**
   * Runs one job's rows after the computation before it. With a {@code deliver}, the pooled rows go
   * to it on the engine's thread: sent from there, they reach their requests without first waking
   * the worker's thread (one hand-off between threads less for every request; about 0.1 ms on the
   * 2-core VM of the README). A failure of the run fails the future; a runtime exception of {@code
   * deliver} is the {@link Computed}'s to tell.
   */
  CompletableFuture<Computed> compute(List<InputFeatures> rows, Consumer<float[][]> deliver) {
    long start = System.nanoTime();
    long tfRunsBefore = encoder.tfRuns();
    return CompletableFuture.supplyAsync(
        () -> {
          float[][] vectors = encoder.pooled(rows);
          long nanos = System.nanoTime() - start;
          long tfRuns = encoder.tfRuns() - tfRunsBefore;
          if (deliver == null) {
            return new Computed(vectors, nanos, tfRuns, null);
          }
          try {
            deliver.accept(vectors);
          } catch (RuntimeException e) {
            return new Computed(null, nanos, tfRuns, e);
          }
          return new Computed(null, nanos, tfRuns, null);
        },
        thread);
  }

  /**
   * What {@code worker} is, for its frontends: the device, TensorFlow, CUDA, cuDNN and GPU memory,
   * found off the actor's thread, with its measured speed and XLA compiles.
   */
  CompletableFuture<Frontend.WorkerDescription> describe(
      akka.actor.typed.ActorRef<Worker.Command> worker, String name) {
    return CompletableFuture.supplyAsync(
        () -> {
          BertEncoder.DeviceDescription device = encoder.device();
          return new Frontend.WorkerDescription(
              worker,
              name,
              tokensPerSecond,
              device.device(),
              device.tensorflow(),
              device.cudaRuntime(),
              device.cudnn(),
              device.memoryUsedMib(),
              device.memoryLimitMib(),
              encoder.warmCompiles(),
              encoder.liveCompiles(),
              encoder.settings().modelName(),
              encoder.settings().maxSeqLen() == null ? 0 : encoder.settings().maxSeqLen(),
              encoder.settings().kind().wireName(),
              encoder.settings().poolingStrategy().name(),
              encoder.settings().labels(),
              encoder.dim(),
              encoder.settings().normalize(),
              encoder.settings().fp16()
                  ? "float16"
                  : encoder.settings().bf16() ? "bfloat16" : "float32");
        },
        blocking);
  }

  /** The failure of a run or of a warm-up, as one EngineException. */
  static EngineException failure(Throwable failure) {
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    return cause instanceof EngineException engine
        ? engine
        : new EngineException(String.valueOf(cause.getMessage()), cause);
  }

  /** Whether a session was warmed up before: the next warm-up opens a new one. */
  boolean warmedUp() {
    return warmedUp;
  }

  /** Ends the engine thread once the run in progress (if any) has ended. */
  void stop() {
    thread.shutdown();
  }
}

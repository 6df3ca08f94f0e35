package org.bertserving.cluster;

import akka.actor.typed.ActorRef;
import org.bertserving.client.protocol.EncodeOutcome;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.client.protocol.StatusReply;
import org.bertserving.client.protocol.WireMessage;

/**
 * The messages a {@link Frontend} takes from other nodes: requests from the HTTP and ZeroMQ doors
 * and the cluster client, and what workers say of their jobs and of themselves. They sit here so
 * the actor's file reads as its behaviour; {@code Frontend} implements this interface, so they keep
 * their names ({@code Frontend.Encode}, {@code Frontend.WorkerDescription}). Each crosses nodes as
 * CBOR ({@link WireMessage}).
 */
public interface FrontendProtocol {
  interface Command {}

  /** Encode texts; the answer goes to {@code replyTo} exactly once. */
  record Encode(EncodeRequest request, ActorRef<EncodeOutcome> replyTo)
      implements Command, WireMessage {}

  /** Configuration and statistics. */
  record GetStatus(ActorRef<StatusReply> replyTo) implements Command, WireMessage {}

  /** A worker finished a job (in {@code tfRuns} TensorFlow runs): it has room again. */
  record JobDone(
      long jobId,
      ActorRef<Worker.Command> worker,
      String workerName,
      int rows,
      long tokens,
      long tfRuns,
      long nanos)
      implements Command, WireMessage {}

  /** A worker's engine failed on a job; the worker restarts with a new session. */
  record JobFailed(long jobId, ActorRef<Worker.Command> worker, String workerName, String cause)
      implements Command, WireMessage {}

  /** A worker gives back a job it has not tried (it is restarting): it goes first to any worker. */
  record JobReturned(long jobId, ActorRef<Worker.Command> worker) implements Command, WireMessage {}

  /**
   * A worker's answer to {@link Worker.Describe}, at once: the ids of this frontend's jobs it holds
   * (waiting, running, or being sent). A job of an id below {@code upTo} (given before the
   * Describe) that it does not hold, and that the frontend still counts as its, was reported in a
   * message that was lost (messages between nodes arrive at most once): its room is free again.
   */
  record JobsHeld(ActorRef<Worker.Command> worker, long upTo, java.util.List<Long> held)
      implements Command, WireMessage {}

  /**
   * A worker's description, its reply to {@link Worker.Describe}: its name, the device it really
   * runs on, the speed it measured at warm-up, its TensorFlow, CUDA runtime and cuDNN, GPU memory
   * (MiB; -1 on the CPU), XLA compiles at warm-up and on live traffic; the model it serves, by
   * name, and that model's {@code max_seq_len} (0: {@code NONE}), what the frontend admits that
   * model's requests by, and its kind ({@code embedding}, {@code rerank}, {@code classify}: {@link
   * org.bertserving.engine.ModelKind#wireName}); the rest of what the HTTP routes of any frontend
   * need to serve that model ({@link ServedModel}): its pooling strategy's name, its labels, the
   * width of its rows, whether it normalizes, its dtype. Asked again every {@link
   * Frontend#DESCRIBE_EVERY}; a worker gets no job before it has described itself.
   */
  record WorkerDescription(
      ActorRef<Worker.Command> worker,
      String name,
      double tokensPerSecond,
      String device,
      String tensorflow,
      String cudaRuntime,
      String cudnn,
      long gpuMemoryUsedMib,
      long gpuMemoryLimitMib,
      long warmCompiles,
      long liveCompiles,
      String model,
      int maxSeqLen,
      String kind,
      String pooling,
      java.util.List<String> labels,
      int dimension,
      boolean normalize,
      String dtype)
      implements Command, WireMessage {}
}

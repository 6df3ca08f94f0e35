package org.bertserving.engine.tf;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.bertserving.engine.hf.HfWeights;
import org.bertserving.engine.hf.StoredTensor;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TFloating;

/**
 * Gives the graph's variables the weights of a safetensors or ONNX file: one placeholder per stored
 * tensor, fed from its memory-mapped bytes, transposed on the CPU where PyTorch stores {@code [out,
 * in]}, concatenated where the graph fuses (query, key, value), cast to the variable's type and
 * assigned. One weight per run, so loading holds at most one tensor twice.
 */
final class FedWeights {
  private FedWeights() {}

  @SuppressWarnings({"unchecked", "rawtypes"})
  static List<TfBertBackend.LoadStep> steps(Ops root, Ops device, BertGraph<?> bert, HfWeights hf) {
    Ops cpu = root.withDevice(TfBertBackend.device(-1)).withSubScope("feed");
    List<TfBertBackend.LoadStep> steps = new ArrayList<>();
    for (BertGraph.Weight<?> weight : bert.weights()) {
      Class<? extends TFloating> type = weight.variable().type();
      List<Placeholder<?>> placeholders = new ArrayList<>();
      List<StoredTensor> tensors = new ArrayList<>();
      List<Operand<?>> parts = new ArrayList<>();
      for (String source : weight.sources()) {
        HfWeights.Source stored = hf.require(source, weight.sourceShape());
        StoredTensor t = stored.tensor();
        Placeholder<?> in =
            cpu.placeholder(tensorType(t.dtype()), Placeholder.shape(Shape.of(t.shape())));
        Operand value = in;
        if (stored.transpose()) {
          value = cpu.linalg.transpose(value, cpu.constant(new int[] {1, 0}));
        }
        if (value.type() != type) {
          value = cpu.dtypes.cast(value, type);
        }
        placeholders.add(in);
        tensors.add(t);
        parts.add(weight.of(cpu, value));
      }
      Operand value = parts.size() == 1 ? parts.get(0) : cpu.concat((List) parts, cpu.constant(-1));
      Op assign = device.assign((Operand) weight.variable(), value);
      steps.add(session -> feed(session, placeholders, tensors, assign));
    }
    return steps;
  }

  private static void feed(
      Session session, List<Placeholder<?>> placeholders, List<StoredTensor> tensors, Op assign) {
    List<Tensor> fed = new ArrayList<>();
    try {
      Session.Runner runner = session.runner().addTarget(assign);
      for (int i = 0; i < placeholders.size(); i++) {
        StoredTensor t = tensors.get(i);
        ByteBuffer bytes = t.data().duplicate();
        Tensor tensor =
            Tensor.of(tensorType(t.dtype()), Shape.of(t.shape()), DataBuffers.of(bytes));
        fed.add(tensor);
        runner.feed(placeholders.get(i), tensor);
      }
      try (var done = runner.run()) {
        // the assignments are the point; the (empty) Result is closed all the same
      }
    } finally {
      fed.forEach(Tensor::close);
    }
  }

  /** The TensorFlow type of a stored float type ({@link HfWeights} refuses the others). */
  private static Class<? extends TFloating> tensorType(String dtype) {
    switch (dtype) {
      case "F16":
        return TFloat16.class;
      case "BF16":
        return TBfloat16.class;
      default:
        return TFloat32.class;
    }
  }
}

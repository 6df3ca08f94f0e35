package org.bertserving.engine.tf;

import java.util.List;
import org.bertserving.engine.InputFeatures;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TInt32;

/** The three {@code [B, T]} int32 inputs of BERT for rows zero-padded to {@code T}. */
record Padded(TInt32 ids, TInt32 mask, TInt32 segments) implements AutoCloseable {

  static Padded of(List<InputFeatures> rows, int length) {
    int batch = rows.size();
    int[] ids = new int[batch * length];
    int[] mask = new int[batch * length];
    int[] segments = new int[batch * length];
    for (int r = 0; r < batch; r++) {
      InputFeatures row = rows.get(r);
      System.arraycopy(row.inputIds(), 0, ids, r * length, row.length());
      System.arraycopy(row.inputMask(), 0, mask, r * length, row.length());
      System.arraycopy(row.segmentIds(), 0, segments, r * length, row.length());
    }
    Shape shape = Shape.of(batch, length);
    TInt32 idTensor = TInt32.tensorOf(shape, DataBuffers.of(ids, true, false));
    TInt32 maskTensor = null;
    try {
      maskTensor = TInt32.tensorOf(shape, DataBuffers.of(mask, true, false));
      return new Padded(
          idTensor, maskTensor, TInt32.tensorOf(shape, DataBuffers.of(segments, true, false)));
    } catch (RuntimeException | Error e) {
      // an allocation that fails (native memory) leaves none of the others behind
      idTensor.close();
      if (maskTensor != null) {
        maskTensor.close();
      }
      throw e;
    }
  }

  @Override
  public void close() {
    ids.close();
    mask.close();
    segments.close();
  }
}

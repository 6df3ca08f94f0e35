package org.bertserving.tools;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.ModelBackend;
import org.bertserving.engine.ModelFiles;
import org.bertserving.engine.tf.TfBertBackend;

/**
 * A hung device for a node JVM ({@code -Dbert-serving.engine.backend=} this class): TensorFlow's
 * session does every run, except that a run holding the word {@value #HANG_ON} never ends. Its
 * close waits for the runs in progress, as TensorFlow's {@code Session.close} does (it waits while
 * its count of active runs is above 0), so a node that closes its engines on the way out waits for
 * ever unless it bounds that wait.
 */
public final class HungRunBackend implements ModelBackend.Opener {
  /** A word of the tiny vocabulary; a run holding it hangs. */
  static final String HANG_ON = "york";

  /** What the node prints when a run has started to hang. */
  static final String HANGING = "hung-run-backend: a run is hanging";

  public HungRunBackend() {}

  @Override
  public ModelBackend open(ModelFiles files, BertConfig declared, EngineSettings settings)
      throws IOException {
    return new Hung(TfBertBackend.open(files, declared, settings));
  }

  private static final class Hung implements ModelBackend {
    private final ModelBackend session;
    private final CountDownLatch never = new CountDownLatch(1);
    private int active;

    Hung(ModelBackend session) {
      this.session = session;
    }

    @Override
    public float[][] run(List<InputFeatures> rows) {
      return hangOr(rows, () -> session.run(rows));
    }

    @Override
    public float[][] run(List<InputFeatures> rows, int batch, int length) {
      return hangOr(rows, () -> session.run(rows, batch, length));
    }

    private float[][] hangOr(List<InputFeatures> rows, java.util.function.Supplier<float[][]> run) {
      synchronized (this) {
        active++;
      }
      try {
        if (rows.stream().anyMatch(r -> r.tokens().contains(HANG_ON))) {
          System.out.println(HANGING);
          never.await();
        }
        return run.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } finally {
        synchronized (this) {
          active--;
          notifyAll();
        }
      }
    }

    @Override
    public synchronized void close() {
      while (active > 0) {
        try {
          wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      session.close();
    }

    @Override
    public BertConfig config() {
      return session.config();
    }

    @Override
    public int shapes() {
      return session.shapes();
    }

    @Override
    public int dim() {
      return session.dim();
    }
  }
}

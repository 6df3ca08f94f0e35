package org.bertserving.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.ModelBackend;
import org.bertserving.engine.ModelFiles;
import org.bertserving.engine.tf.TfBertBackend;
import org.junit.jupiter.api.Test;

/**
 * {@code bert-serving.engine.backend}: a node's workers open their model with the class it names
 * (loaded by reflection), and a class that is missing or of the wrong kind stops the node at start
 * with the key's name.
 */
class EngineBackendSettingTest {
  private static final String KEY = "bert-serving.engine.backend";

  /**
   * TensorFlow's backend, counting how often the node opened it through this class and keeping the
   * settings of the last open.
   */
  public static final class CountingOpener implements ModelBackend.Opener {
    static final AtomicInteger OPENED = new AtomicInteger();
    static final java.util.concurrent.atomic.AtomicReference<EngineSettings> LAST =
        new java.util.concurrent.atomic.AtomicReference<>();

    @Override
    public ModelBackend open(ModelFiles files, BertConfig declared, EngineSettings settings)
        throws IOException {
      OPENED.incrementAndGet();
      LAST.set(settings);
      return TfBertBackend.open(files, declared, settings);
    }
  }

  /** An opener the node cannot create: no public no-argument constructor. */
  public static final class NoDefaultConstructor implements ModelBackend.Opener {
    public NoDefaultConstructor(String unused) {}

    @Override
    public ModelBackend open(ModelFiles files, BertConfig declared, EngineSettings settings) {
      throw new AssertionError("never created");
    }
  }

  @Test
  void theWorkersOpenTheirModelWithTheNamedClass() throws Exception {
    int before = CountingOpener.OPENED.get();
    try (BertServer node =
        TestNodes.start(
            TestNodes.node(
                List.of("frontend", "worker"),
                0,
                false,
                Map.of(
                    KEY,
                    CountingOpener.class.getName(),
                    "bert-serving.workers.num-worker",
                    2,
                    "bert-serving.engine.products",
                    "plain")))) {
      assertEquals(2, CountingOpener.OPENED.get() - before, "one backend per worker");
      // and the engine's settings are the node's: plain products here, where the default measures
      assertEquals(
          org.bertserving.engine.ProductKernel.PLAIN, CountingOpener.LAST.get().products());
      TestNodes.awaitWorkers(node, 2);
    }
  }

  @Test
  void aMissingOrWrongClassStopsTheNodeNamingTheKey() {
    for (Map.Entry<String, String> wrong :
        Map.of(
                "org.bertserving.NoSuchBackend",
                "no such class on the class path",
                String.class.getName(),
                "does not implement " + ModelBackend.Opener.class.getName(),
                NoDefaultConstructor.class.getName(),
                "no public no-argument constructor")
            .entrySet()) {
      String message =
          TestNodes.refusal(List.of("frontend", "worker"), 0, Map.of(KEY, wrong.getKey()));
      assertTrue(
          message.startsWith(KEY + " = " + wrong.getKey() + ": ")
              && message.contains(wrong.getValue()),
          message);
    }
  }

  /** A products kernel that is none of measured, fused, plain stops the node naming the key. */
  @Test
  void aWrongProductsKernelStopsTheNodeNamingTheKey() {
    String message =
        TestNodes.refusal(
            List.of("frontend", "worker"), 0, Map.of("bert-serving.engine.products", "fast"));
    assertTrue(
        message.startsWith("bert-serving.engine.products: 'fast' is not one of measured"), message);
  }
}

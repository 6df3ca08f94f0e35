package org.bertserving.tools;

import org.bertserving.engine.ProductKernel;

/**
 * The options of {@code ops/bert-serving-benchmark-minilm}, read alike by its two tables: {@code
 * --seconds S} per cell (5) and {@code --products measured|fused|plain}, the kernel of the engine's
 * products in process and in the node ({@code bert-serving.engine.products}; measured by default,
 * as served), so that a column "before" a kernel change is one command too.
 */
record MiniLmArgs(double seconds, ProductKernel products) {
  static MiniLmArgs parse(String[] args) {
    double seconds = 5;
    ProductKernel products = ProductKernel.MEASURED;
    for (int i = 0; i < args.length; i += 2) {
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      switch (args[i]) {
        case "--seconds" -> seconds = Double.parseDouble(args[i + 1]);
        case "--products" -> products = ProductKernel.parse(args[i + 1]);
        default ->
            throw new IllegalArgumentException(
                "unknown option " + args[i] + " (--seconds S, --products measured|fused|plain)");
      }
    }
    return new MiniLmArgs(seconds, products);
  }

  /** The node's JVM option that gives it the same kernel. */
  String nodeProperty() {
    return "-Dbert-serving.engine.products=" + products.name().toLowerCase(java.util.Locale.ROOT);
  }
}

package org.bertserving.tools;

import com.typesafe.config.ConfigFactory;
import java.util.Locale;
import org.bertserving.engine.ProductKernel;

/**
 * The options of {@code ops/bert-serving-benchmark-minilm}, read alike by its two tables: {@code
 * --seconds S} per cell (5) and {@code --products measured|fused|plain}, the kernel of the engine's
 * products in process and in the node ({@code bert-serving.engine.products}; by default what the
 * configuration says, {@code JAVA_OPTS}' {@code -D} included: measured, as served), so that a
 * column "before" a kernel change is one command too.
 */
record MiniLmArgs(double seconds, ProductKernel products) {
  static final String USAGE = "--seconds S (> 0), --products measured|fused|plain";

  static MiniLmArgs parse(String[] args) {
    double seconds = 5;
    ProductKernel products =
        ProductKernel.parse(ConfigFactory.defaultReference().getString(PRODUCTS));
    for (int i = 0; i < args.length; i += 2) {
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value (" + USAGE + ")");
      }
      String value = args[i + 1];
      switch (args[i]) {
        case "--seconds" -> seconds = seconds(value);
        case "--products" -> products = ProductKernel.parse(value);
        default ->
            throw new IllegalArgumentException("unknown option " + args[i] + " (" + USAGE + ")");
      }
    }
    return new MiniLmArgs(seconds, products);
  }

  /** As {@link #parse}; a wrong option ends the JVM with one line naming it, and status 2. */
  static MiniLmArgs parseOrExit(String[] args) {
    try {
      return parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bert-serving-benchmark-minilm: " + e.getMessage());
      System.exit(2);
      throw e; // not reached
    }
  }

  private static double seconds(String value) {
    double s;
    try {
      s = Double.parseDouble(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--seconds '" + value + "' is not a number", e);
    }
    // at most a day a cell: the loops' deadlines are nanoseconds in a long
    if (!(s > 0 && s <= 86_400)) {
      throw new IllegalArgumentException("--seconds " + value + " is not within (0, 86400]");
    }
    return s;
  }

  private static final String PRODUCTS = "bert-serving.engine.products";

  /** The node's JVM option that gives it the same kernel. */
  String nodeProperty() {
    return "-D" + PRODUCTS + "=" + products.name().toLowerCase(Locale.ROOT);
  }
}

package org.bertserving.cli;

import java.util.List;
import org.bertserving.engine.BertEncoder;
import org.bertserving.engine.DefaultModel;
import org.bertserving.engine.EngineSettings;

/**
 * {@code bert-serving-start}: parses the flags, loads the engine and proves it with a self-check.
 * (The HTTP and cluster server arrive with the service issue.)
 */
public final class Main {
  public static final String VERSION = "0.1.0";

  private Main() {}

  public static void main(String[] args) {
    StartArgs parsed;
    EngineSettings settings;
    try {
      parsed = StartArgs.parse(args);
      if (parsed.flag("help")) {
        System.out.print(StartArgs.usage());
        return;
      }
      if (parsed.flag("version")) {
        System.out.println("bert-serving (JVM) " + VERSION);
        return;
      }
      if (parsed.flag("model_cache_dir")) {
        System.setProperty(DefaultModel.CACHE_PROPERTY, parsed.get("model_cache_dir", ""));
      }
      settings = parsed.engineSettings();
    } catch (IllegalArgumentException e) {
      System.err.println("bert-serving-start: " + e.getMessage());
      System.exit(2);
      return;
    }
    try (BertEncoder encoder = BertEncoder.load(settings)) {
      long start = System.nanoTime();
      float[][] v = encoder.encode(List.of("hello world", "the engine is ready ||| it says so"));
      System.out.printf("self-check: 2 texts -> %d x %d floats in %.1f ms (%s, max_seq_len=%s)%n",
          v.length, v[0].length, (System.nanoTime() - start) / 1e6,
          settings.poolingStrategy(), settings.maxSeqLen() == null ? "NONE" : settings.maxSeqLen());
    } catch (IllegalArgumentException e) {
      System.err.println("bert-serving-start: " + e.getMessage());
      System.exit(2);
    } catch (Exception e) {
      System.err.println("bert-serving-start: " + e.getMessage());
      System.exit(1);
    }
  }
}

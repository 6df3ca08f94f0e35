package org.bertserving.cli;

import com.typesafe.config.Config;
import org.bertserving.server.BertServer;

/**
 * {@code bert-serving-start}: parses the flags, starts a node in the foreground, runs until
 * SIGTERM/Ctrl-C (then leaves the cluster gracefully). A bad flag or value: one line, exit 2.
 */
public final class Main {
  public static final String VERSION = "0.1.0";

  private Main() {}

  public static void main(String[] args) {
    Config config;
    try {
      StartArgs parsed = StartArgs.parse(args);
      if (parsed.has("help")) {
        System.out.print(StartArgs.usage());
        return;
      }
      if (parsed.has("version")) {
        System.out.println("bert-serving (JVM) " + VERSION + ", bert-as-service 1.10 compatible");
        return;
      }
      if (parsed.has("verbose")) {
        System.setProperty("BERT_SERVING_LOG_LEVEL", "DEBUG");
      }
      config = parsed.config();
      org.bertserving.cluster.ServingSettings.create(config);
    } catch (RuntimeException e) {
      System.err.println("bert-serving-start: " + e.getMessage());
      System.exit(2);
      return;
    }
    try {
      BertServer.start(config);
    } catch (IllegalArgumentException e) {
      System.err.println("bert-serving-start: " + e.getMessage());
      System.exit(2);
    } catch (Exception e) {
      System.err.println("bert-serving-start: " + e.getMessage());
      System.exit(1);
    }
  }
}

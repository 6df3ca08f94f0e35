package org.bertserving.cli;

import com.typesafe.config.Config;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.bertserving.server.BertServer;
import sun.misc.Signal;

/**
 * {@code bert-serving-start}: parses the flags, starts a node in the foreground, runs until
 * SIGTERM/Ctrl-C, then leaves the cluster gracefully and exits 0. Exit codes, for supervisors
 * ({@code Restart=on-failure}): 2 a bad flag or value, 1 a node that cannot start (model, a port
 * taken), each with one line naming the cause.
 */
public final class Main {
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
        System.out.println(
            "bert-serving (JVM) "
                + org.bertserving.cluster.StatusReport.VERSION
                + ", bert-as-service 1.10 compatible");
        return;
      }
      if (parsed.has("verbose")) {
        System.setProperty("BERT_SERVING_LOG_LEVEL", "DEBUG");
      }
      config = parsed.config();
    } catch (RuntimeException e) {
      fail(2, e.getMessage());
      return;
    }
    BertServer server;
    try {
      server = BertServer.start(config);
    } catch (IllegalArgumentException e) {
      fail(2, e.getMessage());
      return;
    } catch (Exception e) { // the model, the cluster port
      fail(1, oneLine(e));
      return;
    }
    try {
      server.started().get(10, TimeUnit.MINUTES);
    } catch (ExecutionException e) {
      server.close();
      fail(1, oneLine(e.getCause()));
      return;
    } catch (Exception e) {
      server.close();
      fail(1, "did not start: " + oneLine(e));
      return;
    }
    // a graceful stop is a success: leave the cluster, let requests in flight finish, exit 0
    Signal.handle(new Signal("TERM"), signal -> stop(server));
    Signal.handle(new Signal("INT"), signal -> stop(server));
    // stopped from within (bert-as-service's TERMINATION on the ZeroMQ door): exit 0 as well
    server.closed().thenRun(() -> System.exit(0));
    // an incarnation that left the cluster and cannot end: restarted by the supervisor instead
    server.stuck().thenAccept(why -> fail(70, why + "; exiting for a restart"));
  }

  private static void stop(BertServer server) {
    Thread stop =
        new Thread(
            () -> {
              server.close(); // bounded: see BertServer.close
              System.exit(0);
            },
            "bert-serving-stop");
    // the signal handler's thread is a daemon and a new thread inherits that: the JVM would end
    // with Akka's last thread, before close() has closed the engines, or hang with Akka's threads
    stop.setDaemon(false);
    stop.start();
  }

  private static String oneLine(Throwable e) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage();
    return message.replaceAll("\\s*\\n\\s*", " ");
  }

  private static void fail(int code, String message) {
    System.err.println("bert-serving-start: " + message);
    System.exit(code);
  }
}

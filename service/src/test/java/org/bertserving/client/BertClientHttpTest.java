package org.bertserving.client;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The SDK over HTTP: Apache HttpClient 5 for the blocking calls, the JDK client for the rest. */
class BertClientHttpTest extends BertClientContractTest {
  @Override
  BertClient connect(Node node, int retries) {
    return BertClient.builder()
        .http(URI.create("http://127.0.0.1:" + node.httpPort()))
        .retries(retries)
        .build();
  }

  @Test
  void anInterruptedCallEndsAtOnceAndTheThreadStaysInterrupted() throws Exception {
    server.faults().forEach(f -> f.delay(4000)); // a stalled device
    java.util.concurrent.CompletableFuture<Throwable> failure =
        new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.atomic.AtomicBoolean stillInterrupted =
        new java.util.concurrent.atomic.AtomicBoolean();
    Thread caller =
        new Thread(
            () -> {
              try {
                client.encode(List.of("waits for a stalled device"));
                failure.complete(null);
              } catch (RuntimeException e) {
                stillInterrupted.set(Thread.currentThread().isInterrupted());
                failure.complete(e);
              }
            });
    caller.start();
    org.awaitility.Awaitility.await("the request reached the server")
        .atMost(java.time.Duration.ofSeconds(10))
        .until(() -> server.metrics().requests.sum() > 0);
    long interruptedAt = System.nanoTime();
    caller.interrupt();
    Throwable e = failure.get(3, java.util.concurrent.TimeUnit.SECONDS);
    assertTrue(System.nanoTime() - interruptedAt < 2_000_000_000L, "ended before the device did");
    assertTrue(e instanceof BertClientException, String.valueOf(e));
    assertTrue(e.getCause() instanceof InterruptedException, String.valueOf(e.getCause()));
    assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
    assertTrue(stillInterrupted.get(), "the thread stays interrupted");
  }

  @Test
  void warnsAboutTextsLongerThanTheServersMaxSeqLen() {
    List<String> messages = new java.util.concurrent.CopyOnWriteArrayList<>();
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            messages.add(
                java.text.MessageFormat.format(record.getMessage(), record.getParameters()));
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    Logger logger = Logger.getLogger(BertClient.class.getName());
    logger.addHandler(capture);
    try {
      client.encode(List.of("short", "the dog ".repeat(10).strip()));
      // logged once the client knows the server's max_seq_len, which the call does not wait for
      Awaitility.await("a warning naming text 1 and max_seq_len 16")
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  messages.stream()
                      .anyMatch(m -> m.contains("[1]") && m.contains("max_seq_len 16")));
    } finally {
      logger.removeHandler(capture);
    }
    assertTrue(messages.stream().noneMatch(m -> m.contains("[0]")), "the short text: " + messages);
  }
}

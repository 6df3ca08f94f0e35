package org.bertserving.tools;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.bertserving.client.BertClient;
import org.bertserving.client.BertClientException;
import org.bertserving.client.BertServerException;
import org.bertserving.client.BertTimeoutException;

/**
 * Steady load through the Java SDK (HTTP, retrying as it does: 429/503 after Retry-After, broken
 * connections with backoff): each client sends requests of a few texts of a fixed corpus, one after
 * the other, and checks every answer row by row against the vectors the healthy cluster gave for
 * the same texts. Each request's outcome is kept with its start and end.
 */
final class LoadDriver implements AutoCloseable {
  /** What became of one request. */
  record Outcome(long startNanos, long endNanos, Kind kind, String detail) {
    long millis() {
      return (endNanos - startNanos) / 1_000_000;
    }
  }

  enum Kind {
    /** 200, every row as expected, in order. */
    OK,
    /** 200 with a missing, extra, reordered or different row. */
    WRONG,
    /** An error answer from the server (after the SDK's retries), which names its cause. */
    ERROR,
    /** No answer: the connection could not be made or the request timed out. */
    LOST
  }

  private final BertClient client;
  private final List<String> corpus;
  private final Map<String, float[]> expected;
  private final int clients;
  private final int maxTexts;
  private final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
  private final List<Thread> threads = new ArrayList<>();

  /** Per client, when its request in flight started, or 0. */
  private long[] inFlight = new long[0];

  private volatile boolean running;
  private CountDownLatch done;

  /**
   * @param expected per text of the corpus, its vector from the healthy cluster
   * @param timeout per attempt: the server's request timeout plus a margin
   */
  LoadDriver(
      List<URI> frontends,
      List<String> corpus,
      Map<String, float[]> expected,
      int clients,
      int maxTexts,
      Duration timeout) {
    this.client =
        BertClient.builder()
            .http(frontends)
            .timeout(timeout)
            .retries(12)
            .backoff(Duration.ofMillis(200))
            .checkLength(false)
            .build();
    this.corpus = corpus;
    this.expected = expected;
    this.clients = clients;
    this.maxTexts = maxTexts;
  }

  void start() {
    running = true;
    done = new CountDownLatch(clients);
    inFlight = new long[clients];
    for (int c = 0; c < clients; c++) {
      Random random = new Random(c);
      int client = c;
      Thread t =
          new Thread(
              () -> {
                try {
                  while (running) {
                    synchronized (this) {
                      inFlight[client] = System.nanoTime();
                    }
                    Outcome outcome = one(random);
                    synchronized (this) {
                      outcomes.add(outcome);
                      inFlight[client] = 0;
                    }
                  }
                } finally {
                  done.countDown();
                }
              },
              "load-" + c);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  private Outcome one(Random random) {
    int n = 1 + random.nextInt(maxTexts);
    int from = random.nextInt(corpus.size());
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      texts.add(corpus.get((from + i * 7) % corpus.size()));
    }
    long start = System.nanoTime();
    try {
      float[][] vectors = client.encode(texts);
      String wrong = check(texts, vectors);
      return new Outcome(start, System.nanoTime(), wrong == null ? Kind.OK : Kind.WRONG, wrong);
    } catch (BertServerException e) {
      return new Outcome(start, System.nanoTime(), Kind.ERROR, e.status() + " " + e.type());
    } catch (BertTimeoutException e) {
      // the cause tells a connection never made (HttpConnectTimeoutException) from no answer
      String cause = e.getCause() == null ? "" : " (" + e.getCause() + ")";
      return new Outcome(start, System.nanoTime(), Kind.LOST, "timeout: " + e.getMessage() + cause);
    } catch (BertClientException e) {
      return new Outcome(start, System.nanoTime(), Kind.LOST, e.getMessage());
    }
  }

  /** Why the answer is wrong, or {@code null}. */
  private String check(List<String> texts, float[][] vectors) {
    if (vectors.length != texts.size()) {
      return vectors.length + " rows for " + texts.size() + " texts";
    }
    for (int i = 0; i < texts.size(); i++) {
      String difference = Vectors.difference(expected.get(texts.get(i)), vectors[i]);
      if (difference != null) {
        return "row " + i + ": " + difference;
      }
    }
    return null;
  }

  /** The outcomes of the requests in flight at some time in {@code [from, to)}. */
  List<Outcome> during(long from, long to) {
    return outcomes.stream().filter(o -> o.endNanos() >= from && o.startNanos() < to).toList();
  }

  /** Requests that started in {@code [from, to)} and have not ended yet. */
  synchronized int inFlightStartedBetween(long from, long to) {
    int n = 0;
    for (long start : inFlight) {
      if (start != 0 && start >= from && start < to) {
        n++;
      }
    }
    return n;
  }

  /** Waits for the requests in flight (each ends by its own timeouts and retries). */
  void stop(Duration timeout) throws InterruptedException {
    running = false;
    if (done != null && !done.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException(
          "load clients did not finish within " + timeout.toSeconds() + " s");
    }
  }

  @Override
  public void close() {
    running = false;
    client.close();
  }

  static URI uri(int port) {
    return URI.create("http://127.0.0.1:" + port);
  }
}

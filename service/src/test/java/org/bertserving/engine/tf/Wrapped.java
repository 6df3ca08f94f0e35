package org.bertserving.engine.tf;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.ModelBackend;

/**
 * A real session, made 20 ms slower on runs of {@code slowRows} rows (texts x tokens) and failing
 * runs that hold a text of a length {@code failsOnLength} accepts; remembers the shapes it ran
 * ("batch x length"), the texts a run, the threads that ran it, the runs under way, and being
 * closed (which closes the session).
 */
final class Wrapped implements ModelBackend {
  final ModelBackend session;
  private final IntPredicate slowRows;
  private final IntPredicate failsOnLength;
  final List<String> ran = new CopyOnWriteArrayList<>();
  final List<Integer> texts = new CopyOnWriteArrayList<>();
  final Set<String> threads = ConcurrentHashMap.newKeySet();
  final AtomicInteger running = new AtomicInteger();
  volatile boolean closed;

  Wrapped(ModelBackend session, IntPredicate slowRows) {
    this(session, slowRows, length -> false);
  }

  Wrapped(ModelBackend session, IntPredicate slowRows, IntPredicate failsOnLength) {
    this.session = session;
    this.slowRows = slowRows;
    this.failsOnLength = failsOnLength;
  }

  @Override
  public float[][] run(List<InputFeatures> rows, int batch, int length) {
    running.incrementAndGet();
    try {
      ran.add(batch + " x " + length);
      texts.add(rows.size());
      threads.add(Thread.currentThread().getName());
      if (rows.stream().anyMatch(r -> failsOnLength.test(r.length()))) {
        throw new IllegalStateException("a run refused, as the test asked");
      }
      if (slowRows.test(batch * length)) {
        java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
      }
      return session.run(rows, batch, length);
    } finally {
      running.decrementAndGet();
    }
  }

  @Override
  public BertConfig config() {
    return session.config();
  }

  @Override
  public int dim() {
    return session.dim();
  }

  @Override
  public int shapes() {
    return session.shapes();
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      session.close();
    }
  }
}

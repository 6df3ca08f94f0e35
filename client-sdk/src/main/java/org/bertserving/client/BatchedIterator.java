package org.bertserving.client;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;

/**
 * Vectors of a large corpus, in order: texts go out in batches with several requests in flight (as
 * the Python client's {@code encode_async}/{@code fetch_all}), rows come back one by one.
 */
final class BatchedIterator implements Iterator<float[]> {
  private final BertClient client;
  private final Iterator<String> texts;
  private final int batchSize;
  private final int inFlight;
  private final ArrayDeque<CompletableFuture<float[][]>> pending = new ArrayDeque<>();
  private float[][] current;
  private int next;

  BatchedIterator(BertClient client, Iterator<String> texts, int batchSize, int inFlight) {
    if (batchSize < 1 || inFlight < 1) {
      throw new IllegalArgumentException("batchSize and inFlight must be at least 1");
    }
    this.client = client;
    this.texts = texts;
    this.batchSize = batchSize;
    this.inFlight = inFlight;
  }

  private void fill() {
    while (pending.size() < inFlight && texts.hasNext()) {
      List<String> batch = new ArrayList<>(batchSize);
      while (batch.size() < batchSize && texts.hasNext()) {
        batch.add(texts.next());
      }
      pending.add(client.encodeAsync(batch));
    }
  }

  @Override
  public boolean hasNext() {
    while (current == null || next >= current.length) {
      fill();
      if (pending.isEmpty()) {
        return false;
      }
      current = Outcomes.join(pending.poll());
      next = 0;
      fill(); // keep the window full while the caller works through this batch
    }
    return true;
  }

  /** Cancels the requests in flight: the stream was closed before its end. */
  void cancel() {
    pending.forEach(f -> f.cancel(true));
    pending.clear();
  }

  @Override
  public float[] next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return current[next++];
  }
}

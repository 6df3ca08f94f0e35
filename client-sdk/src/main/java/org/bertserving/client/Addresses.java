package org.bertserving.client;

import java.net.URI;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A client's servers: each call starts at the next one (round-robin), and one that failed (refused
 * or broke a connection, timed out connecting or answering, answered 503) is passed over for {@link
 * #DOWN_FOR} unless every other one has failed too.
 */
final class Addresses {
  static final long DOWN_FOR = 1_500_000_000L;

  /** One server: where its routes are. */
  record Address(URI base, URI encode, URI status) {
    static Address of(URI base) {
      String b = base.toString().replaceAll("/+$", "");
      return new Address(
          URI.create(b), URI.create(b + "/encode"), URI.create(b + "/status/server"));
    }
  }

  private final List<Address> all;
  private final AtomicInteger next = new AtomicInteger();

  /** Per address: the nanoTime until which it is passed over. */
  private final AtomicLongArray downUntil;

  Addresses(List<URI> bases) {
    this.all = bases.stream().map(Address::of).toList();
    this.downUntil = new AtomicLongArray(all.size());
    long now = System.nanoTime(); // which may be negative: 0 is no "never"
    for (int i = 0; i < all.size(); i++) {
      downUntil.set(i, now);
    }
  }

  int size() {
    return all.size();
  }

  /** Where a call starts. */
  int start() {
    return Math.floorMod(next.getAndIncrement(), all.size());
  }

  /**
   * The index of the address to try next from {@code start} on: the first not in {@code tried} that
   * is not down, else the first not in {@code tried}; -1 when all were tried.
   */
  int pick(int start, Set<Integer> tried) {
    long now = System.nanoTime();
    int fallback = -1;
    for (int k = 0; k < all.size(); k++) {
      int i = (start + k) % all.size();
      if (tried.contains(i)) {
        continue;
      }
      if (downUntil.get(i) - now <= 0) {
        return i;
      }
      if (fallback < 0) {
        fallback = i;
      }
    }
    return fallback;
  }

  Address get(int i) {
    return all.get(i);
  }

  void failed(int i) {
    downUntil.set(i, System.nanoTime() + DOWN_FOR);
  }

  void answered(int i) {
    long now = System.nanoTime();
    if (downUntil.get(i) - now > 0) {
      downUntil.set(i, now);
    }
  }
}

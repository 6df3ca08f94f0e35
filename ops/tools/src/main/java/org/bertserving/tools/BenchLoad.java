package org.bertserving.tools;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;

/** What the cluster benchmarks share to put load on frontends: raw HTTP channels and warm-ups. */
final class BenchLoad {
  private static final double WARM_SLICE_SECONDS = 3;

  private BenchLoad() {}

  /**
   * Thread {@code thread}'s keep-alive connection to one of the frontends' {@code ports} (spread
   * round-robin), sending {@code corpus}'s bodies for {@code route} and reading back vectors {@code
   * dim} wide.
   */
  static CellLoad.Channel raw(
      List<Integer> ports, BenchRoute route, Corpus corpus, int dim, int thread) {
    RawHttp http = new RawHttp(ports.get(thread % ports.size()));
    return new CellLoad.Channel() {
      @Override
      public CellLoad.Answer call(int block) throws Exception {
        RawHttp.Response r = http.post(route.path, route.headers, corpus.body(route, block));
        if (r.status() != 200) {
          return new CellLoad.Answer(
              r.status(),
              BenchRoute.format(r.contentType()),
              null,
              new String(r.body(), 0, Math.min(300, r.body().length), StandardCharsets.UTF_8));
        }
        return new CellLoad.Answer(
            200, BenchRoute.format(r.contentType()), route.vectors(r, dim), null);
      }

      @Override
      public void close() {
        http.close();
      }
    };
  }

  /**
   * Load in slices of {@link #WARM_SLICE_SECONDS} until the JVMs are at steady state: at least
   * {@code least} seconds, then until two slices in a row answer rows within 5 % of each other, or
   * {@code most} seconds. A server runs for hours, so the figures are those of its compiled code:
   * on 2 shared cores the JIT takes 30 to 90 s to compile Akka's, Artery's and TLS's paths, and a
   * cell measured before then mostly measures the compiler. Returns the rows/s answered right in
   * the last slice.
   */
  static double warm(
      Corpus corpus,
      IntFunction<CellLoad.Channel> channels,
      int inflight,
      double least,
      double most,
      String label)
      throws InterruptedException {
    long t = System.nanoTime();
    double before = -1;
    int steady = 0;
    while (true) {
      CellLoad.Tally slice =
          new CellLoad(corpus)
              .closed(channels, inflight, 0, (long) (WARM_SLICE_SECONDS * 1e9), () -> {});
      double rows = slice.okRows();
      double elapsed = (System.nanoTime() - t) / 1e9;
      steady = before > 0 && Math.abs(rows - before) <= 0.05 * before ? steady + 1 : 0;
      before = rows;
      if (elapsed >= most || (elapsed >= least && steady >= 2)) {
        System.err.printf(
            Locale.ROOT,
            "  warm-up %s: %.0f s, %.0f rows/s in its last slice%s%n",
            label,
            elapsed,
            rows / WARM_SLICE_SECONDS,
            steady >= 2 ? "" : " (not steady within --max-warm)");
        return rows / WARM_SLICE_SECONDS;
      }
    }
  }
}

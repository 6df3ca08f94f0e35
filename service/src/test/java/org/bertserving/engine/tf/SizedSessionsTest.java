package org.bertserving.engine.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.bertserving.engine.BertConfig;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.InputFeatures;
import org.bertserving.engine.ModelBackend;
import org.bertserving.engine.ModelFiles;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/**
 * Real TensorFlow sessions of the tiny model behind one {@link SizedSessions}: every run answers
 * what one session answers, whichever session it went to; each run goes to the session its size's
 * probe chose, runs beyond the largest probe to the largest probe's; a session no probe chose is
 * closed.
 */
class SizedSessionsTest {

  static EngineSettings settings() {
    return EngineSettings.builder().modelDir(TestNodes.tinyModel()).maxSeqLen(32).build();
  }

  static ModelBackend session(EngineSettings s) throws Exception {
    ModelFiles files = ModelFiles.locate(s);
    return TfBertBackend.open(files, BertConfig.read(files.config()), s);
  }

  /** {@code batch} distinct rows of {@code length} tokens of the tiny vocabulary. */
  static List<InputFeatures> rows(int batch, int length) {
    List<InputFeatures> rows = new ArrayList<>();
    for (int r = 0; r < batch; r++) {
      int[] ids = new int[length];
      int[] mask = new int[length];
      for (int t = 0; t < length; t++) {
        ids[t] = t == 0 ? 2 : t == length - 1 ? 3 : 5 + (r * 7 + t) % 30;
        mask[t] = 1;
      }
      rows.add(new InputFeatures(ids, new int[length], mask, List.of()));
    }
    return rows;
  }

  @Test
  void everyRunAnswersAsOneSessionAndGoesToTheSessionItsSizeChose() throws Exception {
    EngineSettings s = settings();
    try (ModelBackend one = session(s);
        ModelBackend oneThread = session(s.toBuilder().intraOpThreads(1).build());
        ModelBackend small = session(s);
        ModelBackend large = session(s);
        SizedSessions sessions =
            new SizedSessions(
                List.of(
                    new SizedSessions.Candidate("one-thread", oneThread, 8),
                    new SizedSessions.Candidate("small-primed", small, 8),
                    new SizedSessions.Candidate("large-primed", large, 256)))) {
      sessions.prime();
      List<ModelBackend> all = List.of(oneThread, small, large);
      int[][] shapes = {{1, 3}, {1, 9}, {2, 16}, {8, 16}, {16, 32}, {40, 16}};
      for (int[] shape : shapes) {
        List<InputFeatures> rows = rows(shape[0], shape[1]);
        ModelBackend chosen = sessions.sessionFor(shape[0], shape[1]);
        int[] before = all.stream().mapToInt(ModelBackend::shapes).toArray();
        float[][] expected = one.run(rows);
        float[][] got = sessions.run(rows);
        for (int r = 0; r < rows.size(); r++) {
          assertArrayEquals(
              expected[r], got[r], 1e-5f, "row " + r + " of " + shape[0] + " x " + shape[1]);
        }
        // a shape no session ran before is counted by the one that ran it, only
        for (int i = 0; i < all.size(); i++) {
          int grew = all.get(i).shapes() - before[i];
          assertTrue(
              grew == 0 || all.get(i) == chosen,
              shape[0] + " x " + shape[1] + " ran on a session it did not go to");
        }
      }
      // 40 x 16 = 640 rows: past every probe, the largest probe's session's
      assertSame(sessions.sessionFor(1, 512), sessions.sessionFor(40, 16));
      assertSame(sessions.sessionFor(1, 512), sessions.sessionFor(1, 4096));
    }
  }

  /**
   * Each probe's session: the first probe's fastest; from the second on, no earlier candidate than
   * a smaller probe's, so that one probe slowed by noise does not move its size to a session that
   * lost on both sides of it, while a real crossing is kept.
   */
  @Test
  void aProbeSlowedByNoiseDoesNotMoveItsSizeToASessionItsNeighboursLostOn() {
    // one-thread / two-part / large-primed, ms x 100; the two-part session wins from 8 rows, but a
    // burst slowed its runs of 32 rows
    long[][] noisy = {
      {890, 800, 670}, {548, 525, 900}, {739, 585, 950}, {784, 536, 1100},
      {879, 891, 1300}, {1239, 839, 1400}, {1543, 1023, 1500}, {3408, 2363, 2126}
    };
    assertArrayEquals(new int[] {2, 1, 1, 1, 1, 1, 1, 2}, SizedSessions.choose(noisy));
    // a real crossing each way, and 4 rows to the session primed large
    long[][] crossing = {
      {500, 400, 300}, {300, 350, 700}, {400, 420, 800}, {500, 450, 900},
      {600, 480, 900}, {800, 700, 900}, {1000, 900, 950}, {2000, 1900, 1500}
    };
    assertArrayEquals(new int[] {2, 0, 0, 1, 1, 1, 1, 2}, SizedSessions.choose(crossing));
    // the fastest everywhere is chosen everywhere
    long[][] one = new long[SizedSessions.PROBES.length][];
    int[] second = new int[one.length];
    for (int i = 0; i < one.length; i++) {
      one[i] = new long[] {900, 100, 500};
      second[i] = 1;
    }
    assertArrayEquals(second, SizedSessions.choose(one));
  }

  /** Two candidates, {@code fast} and {@code slow}, the choice kept in {@code kept}. */
  private static SizedSessions twoKept(Wrapped fast, Wrapped slow, SessionChoices kept) {
    return new SizedSessions(
        List.of(
            new SizedSessions.Candidate("fast", fast, 8),
            new SizedSessions.Candidate("slow", slow, 8)),
        kept);
  }

  /**
   * The probes' choice is kept in a file for the machine, model and settings: a start with the same
   * candidates takes it without timing them (each session runs its priming run only), even where
   * they would now time otherwise; other candidates or probes, another key, a choice out of range,
   * a file cut short or older than a week are not read (so measured again); a folder that cannot be
   * written to keeps nothing and fails nothing.
   */
  @Test
  void aChoiceKeptByAnEarlierStartIsTakenWithoutProbesAndAnythingElseIsMeasured(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    EngineSettings s = settings();
    SessionChoices kept = new SessionChoices(dir, "a machine, a model, its settings");
    try (Wrapped fast = new Wrapped(session(s), rows -> false);
        Wrapped slow = new Wrapped(session(s), rows -> true);
        SizedSessions first = twoKept(fast, slow, kept)) {
      first.prime();
      assertEquals(List.of("fast"), first.kept());
      assertTrue(java.nio.file.Files.isRegularFile(kept.file()), "the choice is kept");
    }
    // the next start: 'fast' would now lose every probe, but the kept choice is taken unprobed
    try (Wrapped fast = new Wrapped(session(s), rows -> true);
        Wrapped slow = new Wrapped(session(s), rows -> false);
        SizedSessions again = twoKept(fast, slow, kept)) {
      again.prime();
      assertEquals(List.of("fast"), again.kept());
      assertEquals(List.of("1 x 8"), fast.ran, "its priming run only");
      assertEquals(List.of("1 x 8"), slow.ran, "its priming run only");
      assertTrue(slow.closed, "the session the kept choice did not take is closed");
      assertSame(fast, again.sessionFor(4, 16));
    }
    // what is measured again instead (read as the next start reads it, with no sessions to time)
    List<String> offered = List.of("fast", "slow");
    int probes = SizedSessions.PROBES.length;
    String written = java.nio.file.Files.readString(kept.file());
    assertTrue(kept.read(offered, probes).isPresent(), "as kept");
    assertTrue(kept.read(List.of("slow", "fast"), probes).isEmpty(), "other candidates");
    assertTrue(kept.read(List.of("fast", "slow"), probes - 1).isEmpty(), "other probes");
    SessionChoices elsewhere = new SessionChoices(dir, "another machine");
    assertFalse(elsewhere.file().equals(kept.file()));
    assertTrue(elsewhere.read(offered, probes).isEmpty(), "another key, another file");
    java.nio.file.Files.writeString(
        kept.file(), written.replace("a machine, a model, its settings", "another machine"));
    assertTrue(kept.read(offered, probes).isEmpty(), "another key under this one's name");
    var json =
        (com.fasterxml.jackson.databind.node.ObjectNode)
            new com.fasterxml.jackson.databind.ObjectMapper().readTree(written);
    ((com.fasterxml.jackson.databind.node.ArrayNode) json.get("chosen")).set(3, 2);
    java.nio.file.Files.writeString(kept.file(), json.toString());
    assertTrue(kept.read(offered, probes).isEmpty(), "a choice out of range");
    java.nio.file.Files.writeString(kept.file(), "{\"key\": ");
    assertTrue(kept.read(offered, probes).isEmpty(), "a file cut short (a disk that filled up)");
    java.nio.file.Files.writeString(kept.file(), written);
    assertTrue(kept.read(offered, probes).isPresent(), "as kept again");
    java.nio.file.Files.setLastModifiedTime(
        kept.file(),
        java.nio.file.attribute.FileTime.from(
            java.time.Instant.now().minus(SessionChoices.MAX_AGE).minusSeconds(60)));
    assertTrue(kept.read(offered, probes).isEmpty(), "older than a week");
    // a start that measured again keeps its choice anew; one that cannot write costs nothing more
    kept.write(new SessionChoices.Choice(offered, new int[probes], false, " 4:1/2"));
    assertTrue(kept.read(offered, probes).isPresent(), "kept anew");
    java.nio.file.Path notAFolder = java.nio.file.Files.writeString(dir.resolve("file"), "");
    SessionChoices unwritable = new SessionChoices(notAFolder, "k");
    unwritable.write(new SessionChoices.Choice(offered, new int[probes], false, ""));
    assertTrue(unwritable.read(offered, probes).isEmpty());
  }

  @Test
  void aSessionNoProbeChoseIsClosedAndRunsPastTheProbesGoToTheLargestProbes() throws Exception {
    EngineSettings s = settings();
    try (ModelBackend fast = session(s);
        Wrapped slow = new Wrapped(session(s), rows -> true);
        Wrapped slowLast = new Wrapped(session(s), rows -> true);
        SizedSessions sessions =
            new SizedSessions(
                List.of(
                    new SizedSessions.Candidate("fast", fast, 8),
                    new SizedSessions.Candidate("slow", slow, 8),
                    new SizedSessions.Candidate("slow-last", slowLast, 256)))) {
      sessions.prime();
      assertEquals(List.of("fast"), sessions.kept());
      assertTrue(slow.closed && slowLast.closed, "the sessions no probe chose are closed");
      for (int rows : SizedSessions.PROBES) {
        assertSame(fast, sessions.sessionFor(1, rows));
      }
      assertSame(fast, sessions.sessionFor(40, 16));
      assertEquals(40, sessions.run(rows(40, 16)).length);
    }
  }

  /**
   * The parallel candidate runs on the one-thread session: where its runs won the probes (here the
   * one-thread session is slowed on runs of more than 64 rows, which the parallel runs of 4 texts
   * of 16 tokens never reach), it serves them and the runs past the probes, and keeps that session
   * open; the session that lost everywhere is closed.
   */
  @Test
  void aChosenParallelCandidateServesItsSizesAndKeepsTheSessionItRunsOn() throws Exception {
    EngineSettings s = settings();
    try (Wrapped oneThread =
            new Wrapped(session(s.toBuilder().intraOpThreads(1).build()), rows -> rows > 64);
        Wrapped large = new Wrapped(session(s), rows -> true);
        ParallelRuns parallel = new ParallelRuns(oneThread, 2);
        ModelBackend reference = session(s);
        SizedSessions sessions =
            new SizedSessions(
                List.of(
                    new SizedSessions.Candidate("one-thread", oneThread, 8),
                    new SizedSessions.Candidate("large-primed", large, 256),
                    new SizedSessions.Candidate("parallel", parallel, 8)))) {
      sessions.prime();
      assertTrue(sessions.kept().contains("parallel"), sessions.kept().toString());
      assertTrue(sessions.kept().contains("one-thread"), "the session the parallel runs are on");
      assertFalse(oneThread.closed);
      assertTrue(large.closed, "the session no probe chose");
      assertSame(parallel, sessions.sessionFor(32, 16)); // the 512-row probe
      assertSame(parallel, sessions.sessionFor(40, 16)); // past the probes
      List<InputFeatures> rows = rows(40, 16);
      float[][] expected = reference.run(rows);
      float[][] got = sessions.run(rows);
      for (int r = 0; r < rows.size(); r++) {
        assertArrayEquals(expected[r], got[r], 1e-5f, "row " + r);
      }
      assertFalse(SizedSessions.inUse(List.of(large)).contains(oneThread));
    }
  }

  @Test
  void runsOfFewerRowsThanAOneTextPrimingArePaddedToThemWhereTheProbesSaySo() throws Exception {
    // slower below 8 rows on every session: padded, and every vector as without padding
    assertEquals(
        List.of("1 x 8", "1 x 8", "1 x 9", "2 x 4", "3 x 3"),
        shapesRun(rows -> rows < SizedSessions.SMALL_RUN));
    // slower from 8 rows on: as they are
    assertEquals(
        List.of("1 x 3", "1 x 8", "1 x 9", "2 x 3", "3 x 2"),
        shapesRun(rows -> rows >= SizedSessions.SMALL_RUN));
  }

  /**
   * The shapes that runs of 1 x 3, 2 x 3, 3 x 2, 1 x 8 and 1 x 9 tokens took, sorted, when every
   * session is 20 ms slower on runs of {@code slowRows}; asserts their vectors are one session's.
   */
  private static List<String> shapesRun(java.util.function.IntPredicate slowRows) throws Exception {
    EngineSettings s = settings();
    try (ModelBackend one = session(s);
        Wrapped small = new Wrapped(session(s), slowRows);
        Wrapped large = new Wrapped(session(s), slowRows);
        SizedSessions sessions =
            new SizedSessions(
                List.of(
                    new SizedSessions.Candidate("small-primed", small, SizedSessions.SMALL_RUN),
                    new SizedSessions.Candidate("large-primed", large, 256)))) {
      sessions.prime();
      small.ran.clear();
      large.ran.clear();
      int[][] shapes = {{1, 3}, {2, 3}, {3, 2}, {1, 8}, {1, 9}};
      for (int[] shape : shapes) {
        List<InputFeatures> rows = rows(shape[0], shape[1]);
        float[][] expected = one.run(rows);
        float[][] got = sessions.run(rows);
        for (int r = 0; r < rows.size(); r++) {
          assertArrayEquals(
              expected[r], got[r], 1e-5f, "row " + r + " of " + shape[0] + " x " + shape[1]);
        }
      }
      List<String> ran = new ArrayList<>(small.ran);
      ran.addAll(large.ran);
      ran.sort(null);
      return ran;
    }
  }

  @Test
  void aOneThreadSessionAsksTensorFlowForTheCallersThread() {
    EngineSettings s = settings();
    EngineSettings one = s.toBuilder().intraOpThreads(1).build();
    assertEquals(-1, TfBertBackend.runOptions(one, 1).getInterOpThreadPool());
    assertEquals(0, TfBertBackend.runOptions(s, 1).getInterOpThreadPool());
    assertEquals(
        0,
        TfBertBackend.runOptions(s.toBuilder().intraOpThreads(2).build(), 1)
            .getInterOpThreadPool());
    // a split session's chains run on its inter-op threads
    assertEquals(0, TfBertBackend.runOptions(one, 2).getInterOpThreadPool());
    // on a GPU the CPU threads do not compute the run
    assertEquals(
        0,
        TfBertBackend.runOptions(s.toBuilder().intraOpThreads(1).deviceId(0).build(), 1)
            .getInterOpThreadPool());
  }

  /**
   * oneDNN's layer norm kernel costs about 25 µs a call whatever its rows, and its attention
   * products and transposes some 5 µs more than Eigen's: the sessions of one intra-op thread, which
   * serve small runs (the two-part session among them), compose their layer norms of TensorFlow's
   * ops and run attention on Eigen's kernels; the others use oneDNN's; all answer alike.
   */
  @Test
  void sessionsOfOneThreadComposeTheirLayerNormsAndRunAttentionOnEigen() throws Exception {
    // fused products, so that every BatchMatMul counted below is attention's
    EngineSettings fusedProducts =
        settings().toBuilder().products(org.bertserving.engine.ProductKernel.FUSED).build();
    EngineSettings many = fusedProducts.toBuilder().intraOpThreads(2).build();
    EngineSettings one = fusedProducts.toBuilder().intraOpThreads(1).build();
    assertTrue(TfBertBackend.oneDnnLayerNorm(many), "this TensorFlow build has _MklLayerNorm");
    assertFalse(TfBertBackend.oneDnnLayerNorm(one));
    assertFalse(TfBertBackend.eigenAttention(many));
    assertTrue(TfBertBackend.eigenAttention(one));
    assertFalse(TfBertBackend.eigenAttention(one.toBuilder().xla(true).build()));
    ModelFiles files = ModelFiles.locate(one);
    BertConfig config = BertConfig.read(files.config());
    try (TfBertBackend fused = (TfBertBackend) session(many);
        TfBertBackend composed = (TfBertBackend) session(one);
        TfBertBackend twoPart =
            TfBertBackend.open(files, config, one.toBuilder().interOpThreads(2).build(), 2)) {
      assertTrue(ops(fused, "_MklLayerNorm") > 0);
      assertEquals(0, ops(fused, "BatchMatMulV3"));
      int products = ops(fused, "BatchMatMulV2"); // two a layer built
      assertTrue(products > 0);
      for (TfBertBackend small : List.of(composed, twoPart)) {
        assertEquals(0, ops(small, "_MklLayerNorm"));
        assertEquals(0, ops(small, "BatchMatMulV2"));
        int chains = small == twoPart ? 2 : 1;
        assertEquals(chains * products, ops(small, "BatchMatMulV3"));
        // two head transposes a product pair, each between two bitcasts (to int32 and back)
        assertEquals(2 * chains * products, ops(small, "Bitcast"));
      }
      List<InputFeatures> rows = rows(3, 7);
      float[][] expected = fused.run(rows);
      for (TfBertBackend small : List.of(composed, twoPart)) {
        float[][] got = small.run(rows);
        for (int r = 0; r < rows.size(); r++) {
          assertArrayEquals(expected[r], got[r], 1e-5f, "row " + r);
        }
      }
    }
  }

  /** How many of {@code session}'s graph's ops are of {@code type}. */
  private static int ops(TfBertBackend session, String type) {
    int count = 0;
    for (var it = session.graph().operations(); it.hasNext(); ) {
      count += it.next().type().equals(type) ? 1 : 0;
    }
    return count;
  }

  @Test
  void theSwitchesAreReadAsTensorFlowReadsThem() throws Exception {
    assertTrue(TfBertBackend.isOn("1", false));
    assertTrue(TfBertBackend.isOn("true", false));
    assertTrue(TfBertBackend.isOn("TRUE", false));
    assertFalse(TfBertBackend.isOn("0", true));
    assertFalse(TfBertBackend.isOn("false", true));
    assertTrue(TfBertBackend.isOn(null, true));
    assertFalse(TfBertBackend.isOn("", false));
    // the suite runs as ops/bert-serving-start does (the pom sets both switches): several sessions
    // on the CPU, one of them of one thread where there is more than one
    assertTrue(SizedSessions.applies(settings()), "TF_ONEDNN_ASSUME_FROZEN_WEIGHTS=1 in the tests");
    // bert-serving.engine.sized-sessions = off: one session, whatever the environment
    assertFalse(SizedSessions.applies(settings().toBuilder().sizedSessions(false).build()));
    try (ModelBackend one =
        SizedSessions.open(
            ModelFiles.locate(settings()),
            BertConfig.read(ModelFiles.locate(settings()).config()),
            settings().toBuilder().sizedSessions(false).build())) {
      assertFalse(one instanceof SizedSessions, "one session: " + one);
    }
    com.typesafe.config.Config node = org.bertserving.cli.StartArgs.parse().config();
    assertTrue(
        org.bertserving.cluster.ServingSettings.create(node).models().get(0).sizedSessions(),
        "on by default");
    assertFalse(
        org.bertserving.cluster.ServingSettings.create(
                com.typesafe.config.ConfigFactory.parseString(
                        "bert-serving.engine.sized-sessions = off")
                    .withFallback(node))
            .models()
            .get(0)
            .sizedSessions(),
        "read from the node's config");
    BertConfig tiny = BertConfig.read(ModelFiles.locate(settings()).config());
    assertEquals(
        Runtime.getRuntime().availableProcessors() > 1,
        SizedSessions.oneThreadApplies(settings(), tiny),
        "TF_OVERRIDE_GLOBAL_THREADPOOL=1 in the tests");
    assertFalse(
        SizedSessions.oneThreadApplies(settings().toBuilder().intraOpThreads(1).build(), tiny));
    assertTrue(
        SizedSessions.oneThreadApplies(settings().toBuilder().intraOpThreads(4).build(), tiny));
    // BERT-Base's width: one thread never paid, and trying it cost the start
    BertConfig base = new BertConfig(30522, 768, 12, 12, 3072, "gelu", 512, 2);
    assertFalse(
        SizedSessions.oneThreadApplies(settings().toBuilder().intraOpThreads(4).build(), base));
    // a GPU, or XLA, never gets several sessions
    assertFalse(SizedSessions.applies(settings().toBuilder().deviceId(0).build()));
    assertFalse(SizedSessions.applies(settings().toBuilder().xla(true).build()));
  }
}

package io.raftkv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;

/**
 * Runs random sequences of puts, deletes, nested txns with compares, ranges at past revisions,
 * compactions, lease operations, reopens, snapshot restores and stale re-applies against
 * {@link RocksDbKvStore} and {@link ModelKvStore}, under a quota small enough to trip NOSPACE;
 * every result (responses, errors, revisions, prevKv, count, more) must be equal after every step,
 * as must the quota figure, the leases, the listener's events, and at the end every revision's
 * contents and the stored watch events. The background compactor runs concurrently throughout.
 */
class KvStoreModelPropertyTest {

  sealed interface Op {}

  record Put(PutRequest request) implements Op {}

  record Delete(DeleteRangeRequest request) implements Op {}

  record Get(RangeRequest request) implements Op {}

  record Txn(TxnRequest request) implements Op {}

  /** Compacts at {@code currentRevision - back}. */
  record Compact(int back) implements Op {}

  record Grant(long id, long ttl) implements Op {}

  record Revoke(long id) implements Op {}

  record Checkpoint(long id, long remaining) implements Op {}

  record TimeToLive(long id, boolean withKeys) implements Op {}

  /** Reads the events of {@code [current - back, current - back + span]}. */
  record Events(int back, int span) implements Op {}

  record Reopen() implements Op {}

  /** Streams a snapshot, restores it into a fresh directory and goes on with the copy. */
  record Restore() implements Op {}

  /** Re-applies the index {@code back} entries ago as a put: must change nothing. */
  record Replay(int back) implements Op {}

  /** Tries: {@code jqwik.tries.default} (200 in junit-platform.properties; -D to run more). */
  @Property
  void storeBehavesLikeModel(@ForAll("programs") List<Op> program,
      @ForAll boolean listenerWantsPrevValues) throws Exception {
    Path dir = TempDirs.create("mvcc-prop");
    try (Harness h = new Harness(dir, new ModelKvStore(QUOTA_BYTES), listenerWantsPrevValues)) {
      for (Op op : program) {
        h.step(op);
      }
      h.checkWholeHistory();
    } finally {
      TempDirs.delete(dir);
    }
  }

  /** Small enough that long programs hit NOSPACE, and compactions clear it. */
  static final long QUOTA_BYTES = 450;

  /**
   * The applier's cache of live versions holds two or three keys here, so programs hit it, miss
   * it and evict from it all the time.
   */
  static final long CACHE_BYTES = 3 * LatestVersions.OVERHEAD_BYTES;

  static final MvccOptions OPTIONS = MvccOptions.defaults()
      .withCompactionBatchSize(3).withQuotaBytes(QUOTA_BYTES).withLatestVersionsBytes(CACHE_BYTES);

  /** Drives both implementations and compares after every step. */
  static final class Harness implements AutoCloseable {
    private final Path root;
    private Path dir;
    private int generation;
    private final ModelKvStore model;
    private final Map<Long, Object> resultsByIndex = new HashMap<>();
    private final Map<Long, List<Event>> heard = new HashMap<>();
    private RocksDbKvStore store;
    private long index;

    private final boolean listenerWantsPrevValues;

    Harness(Path root, ModelKvStore model) {
      this(root, model, true);
    }

    /**
     * With {@code listenerWantsPrevValues} false the store need not read a put's previous
     * value for the listener's events; everything else must be the same.
     */
    Harness(Path root, ModelKvStore model, boolean listenerWantsPrevValues) {
      this.root = root;
      this.dir = root.resolve("store-0");
      this.model = model;
      this.listenerWantsPrevValues = listenerWantsPrevValues;
      open();
    }

    private void open() {
      store = RocksDbKvStore.open(dir, OPTIONS);
      store.addRevisionListener(new RevisionListener() {
        @Override
        public void onRevision(long revision, List<Event> events) {
          heard.put(revision, events);
        }

        @Override
        public boolean wantsPrevValues() {
          return listenerWantsPrevValues;
        }
      });
    }

    void step(Op op) throws Exception {
      long revBefore = store.currentRevision();
      long indexBefore = index;
      Object expected;
      Object actual;
      if (op instanceof Put p) {
        expected = outcome(() -> model.put(p.request()));
        actual = outcome(() -> store.put(++index, p.request()));
      } else if (op instanceof Delete d) {
        expected = outcome(() -> model.deleteRange(d.request()));
        actual = outcome(() -> store.deleteRange(++index, d.request()));
      } else if (op instanceof Get g) {
        expected = outcome(() -> model.range(g.request()));
        actual = outcome(() -> store.range(g.request()));
      } else if (op instanceof Txn t) {
        expected = outcome(() -> model.txn(t.request()));
        actual = outcome(() -> store.txn(++index, t.request()));
      } else if (op instanceof Compact c) {
        long rev = model.currentRevision() - c.back();
        expected = outcome(() -> model.compact(rev));
        actual = outcome(() -> store.compact(++index, rev));
      } else if (op instanceof Grant g) {
        expected = outcome(() -> model.leaseGrant(g.id(), g.ttl()));
        actual = outcome(() -> store.leaseGrant(++index, g.id(), g.ttl()));
      } else if (op instanceof Revoke r) {
        expected = outcome(() -> model.leaseRevoke(r.id()));
        actual = outcome(() -> store.leaseRevoke(++index, r.id()));
      } else if (op instanceof Checkpoint c) {
        expected = outcome(() -> model.leaseCheckpoint(c.id(), c.remaining()));
        actual = outcome(() -> store.leaseCheckpoint(++index, c.id(), c.remaining()));
      } else if (op instanceof TimeToLive t) {
        expected = outcome(() -> model.leaseTimeToLive(t.id(), t.withKeys()));
        actual = outcome(() -> store.leaseTimeToLive(t.id(), t.withKeys()));
      } else if (op instanceof Events e) {
        long from = model.currentRevision() - e.back();
        expected = outcome(() -> model.events(from, from + e.span()));
        actual = outcome(() -> store.events(from, from + e.span()));
      } else if (op instanceof Restore) {
        HashKvResult before = store.hash(0);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        store.snapshot(out);
        store.close();
        resultsByIndex.clear();
        dir = root.resolve("store-" + ++generation);
        RocksDbKvStore.restore(new java.io.ByteArrayInputStream(out.toByteArray()), dir,
            OPTIONS).close();
        open();
        assertThat(store.hash(0)).isEqualTo(before);
        assertThat(store.appliedIndex()).isEqualTo(index);
        expected = actual = null;
      } else if (op instanceof Reopen) {
        HashKvResult before = store.hash(0);
        store.close();
        resultsByIndex.clear();
        open();
        assertThat(store.hash(0)).isEqualTo(before);
        assertThat(store.appliedIndex()).isEqualTo(index);
        expected = actual = null;
      } else {
        Replay r = (Replay) op;
        long stale = index - r.back();
        Object recorded = resultsByIndex.get(stale);
        PutRequest put = PutRequest.of(Bytes.of("a"), Bytes.of("replayed"));
        actual = outcome(() -> store.put(stale, put));
        if (recorded instanceof PutResponse || recorded instanceof String) {
          expected = recorded;
        } else {
          expected = new PutResponse(store.currentRevision(), java.util.Optional.empty());
        }
        assertThat(store.appliedIndex()).isEqualTo(index);
      }
      assertThat(actual).as("result of %s", op).isEqualTo(expected);
      if (index != indexBefore) {
        resultsByIndex.put(index, actual);
      }
      assertThat(store.currentRevision()).as("revision after %s", op)
          .isEqualTo(model.currentRevision());
      assertThat(store.compactRevision()).isEqualTo(model.compactRevision());
      assertThat(store.historyBytes()).as("quota figure after %s", op)
          .isEqualTo(model.historyBytes());
      assertThat(store.leases()).isEqualTo(model.leases());
      long rev = store.currentRevision();
      if (rev != revBefore) {
        List<Event> expectedEvents = model.eventsOf(rev);
        List<Event> heardEvents = heard.get(rev);
        if (listenerWantsPrevValues) {
          assertThat(heardEvents).as("listener events of %s", op).isEqualTo(expectedEvents);
        } else {
          // A put's prevKv may be left out, never wrong; all else is exact.
          assertThat(heardEvents).as("listener events of %s", op).hasSameSizeAs(expectedEvents);
          for (int i = 0; i < expectedEvents.size(); i++) {
            Event want = expectedEvents.get(i);
            Event got = heardEvents.get(i);
            boolean omittable = want.type() == Event.Type.PUT && got.prevKv().isEmpty();
            assertThat(got).as("listener event %d of %s", i, op).isEqualTo(
                omittable ? new Event(want.type(), want.kv(), java.util.Optional.empty()) : want);
          }
        }
      }
    }

    void checkWholeHistory() {
      long compacted = model.compactRevision();
      for (long rev = Math.max(1, compacted); rev <= model.currentRevision(); rev++) {
        RangeRequest all = RangeRequest.all().atRevision(rev);
        assertThat(store.range(all)).as("all keys at %d", rev).isEqualTo(model.range(all));
      }
      long from = Math.max(1, compacted);
      assertThat(store.events(from, Long.MAX_VALUE))
          .isEqualTo(model.events(from, model.currentRevision()));
    }

    @Override
    public void close() {
      store.close();
    }
  }

  private static Object outcome(Callable<?> call) throws Exception {
    try {
      return call.call();
    } catch (MvccException e) {
      return "error " + e.code();
    }
  }

  // ---------------------------------------------------------------- generators

  private static final List<Bytes> KEYS = List.of(Bytes.of("a"), Bytes.of("b"),
      Bytes.of("b\0"), Bytes.of("b\0c"), Bytes.of("c"), Bytes.of("d"));

  private static Arbitrary<Bytes> keys() {
    return Arbitraries.of(KEYS);
  }

  private static Arbitrary<Bytes> rangeEnds() {
    return Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.just(Bytes.EMPTY)),
        Tuple.of(1, Arbitraries.just(Bytes.NUL)),
        Tuple.of(4, keys()),
        Tuple.of(1, Arbitraries.just(Bytes.of("z"))));
  }

  private static Arbitrary<Bytes> values() {
    return Arbitraries.of(Bytes.EMPTY, Bytes.of("x"), Bytes.of("y"), Bytes.of("zz"));
  }

  private static Arbitrary<Long> leaseIds() {
    return Arbitraries.frequencyOf(
        Tuple.of(7, Arbitraries.just(0L)), Tuple.of(3, Arbitraries.longs().between(1, 3)));
  }

  private static Arbitrary<Long> revisions() {
    return Arbitraries.frequencyOf(
        Tuple.of(6, Arbitraries.just(0L)), Tuple.of(4, Arbitraries.longs().between(1, 18)));
  }

  private static Arbitrary<Long> bounds() {
    return Arbitraries.frequencyOf(
        Tuple.of(8, Arbitraries.just(0L)), Tuple.of(2, Arbitraries.longs().between(1, 20)));
  }

  private static Arbitrary<PutRequest> puts() {
    Arbitrary<Integer> flags = Arbitraries.integers().between(0, 39)
        .withDistribution(RandomDistribution.uniform()).withoutEdgeCases();
    return Combinators.combine(keys(), values(), leaseIds(), Arbitraries.of(true, false), flags)
        .as((k, v, lease, prevKv, f) -> {
          boolean ignoreValue = f == 0 || f == 1 || f == 2;
          boolean ignoreLease = f == 3 || f == 4 || f == 2;
          Bytes value = ignoreValue && f != 2 ? Bytes.EMPTY : v;
          long l = ignoreLease && f != 4 ? 0 : lease;
          return new PutRequest(k, value, l, prevKv, ignoreValue, ignoreLease);
        });
  }

  /** Puts as transactions mostly carry them: no flags, rarely a lease. */
  private static Arbitrary<PutRequest> plainPuts() {
    return Combinators.combine(keys(), values(), Arbitraries.of(true, false),
            Arbitraries.frequencyOf(Tuple.of(9, Arbitraries.just(0L)),
                Tuple.of(1, Arbitraries.just(1L))))
        .as((k, v, prevKv, lease) -> new PutRequest(k, v, lease, prevKv, false, false));
  }

  private static Arbitrary<DeleteRangeRequest> deletes() {
    return Combinators.combine(keys(), rangeEnds(), Arbitraries.of(true, false))
        .as(DeleteRangeRequest::new);
  }

  private static Arbitrary<RangeRequest> ranges() {
    Arbitrary<RangeRequest> base = Combinators.combine(keys(), rangeEnds(), revisions(),
            Arbitraries.longs().between(0, 3), Arbitraries.integers().between(0, 9),
            Arbitraries.of(RangeRequest.SortOrder.values()),
            Arbitraries.of(RangeRequest.SortTarget.values()))
        .as((k, e, rev, limit, flags, order, target) -> new RangeRequest(k, e, rev, limit,
            flags == 0, flags == 1, order, target, 0, 0, 0, 0));
    return Combinators.combine(base, bounds(), bounds(), bounds(), bounds())
        .as((r, minMod, maxMod, minCreate, maxCreate) -> r
            .withModRevisionBounds(minMod, maxMod)
            .withCreateRevisionBounds(minCreate, maxCreate));
  }

  private static Arbitrary<Compare> compares() {
    return Combinators.combine(keys(), Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.just(Bytes.EMPTY)), Tuple.of(2, rangeEnds())),
            Arbitraries.of(Compare.Target.values()), Arbitraries.of(Compare.Result.values()),
            Arbitraries.longs().between(0, 6), values())
        .as(Compare::new);
  }

  private static Arbitrary<RequestOp> requestOps(int depth) {
    Arbitrary<RequestOp> anyPut = Arbitraries.frequencyOf(
        Tuple.of(4, plainPuts()), Tuple.of(1, puts()));
    if (depth == 0) {
      return Arbitraries.frequencyOf(
          Tuple.of(3, anyPut), Tuple.of(1, deletes()), Tuple.of(1, ranges()));
    }
    return Arbitraries.frequencyOf(
        Tuple.of(3, anyPut), Tuple.of(1, deletes()), Tuple.of(1, ranges()),
        Tuple.of(1, txns(depth - 1)));
  }

  private static Arbitrary<RequestOp> txns(int depth) {
    return Combinators.combine(compares().list().ofMaxSize(2),
            requestOps(depth).list().ofMinSize(1).ofMaxSize(3),
            requestOps(depth).list().ofMaxSize(3))
        .as(TxnRequest::new);
  }

  @Provide
  Arbitrary<List<Op>> programs() {
    Arbitrary<Op> op = Arbitraries.frequencyOf(
        Tuple.of(5, puts().map(Put::new)),
        Tuple.of(5, plainPuts().map(Put::new)),
        Tuple.of(4, deletes().map(Delete::new)),
        Tuple.of(4, ranges().map(Get::new)),
        Tuple.of(6, txns(2).map(t -> new Txn((TxnRequest) t))),
        Tuple.of(2, Arbitraries.integers().between(-1, 4).map(Compact::new)),
        Tuple.of(3, Combinators.combine(Arbitraries.longs().between(1, 3),
            Arbitraries.longs().between(1, 100)).as(Grant::new)),
        Tuple.of(1, Arbitraries.longs().between(1, 3).map(Revoke::new)),
        Tuple.of(1, Combinators.combine(Arbitraries.longs().between(1, 3),
            Arbitraries.longs().between(0, 100)).as(Checkpoint::new)),
        Tuple.of(1, Combinators.combine(Arbitraries.longs().between(1, 3),
            Arbitraries.of(true, false)).as(TimeToLive::new)),
        Tuple.of(1, Combinators.combine(Arbitraries.integers().between(-1, 6),
            Arbitraries.integers().between(0, 4)).as(Events::new)),
        Tuple.of(1, Arbitraries.just(new Reopen())),
        Tuple.of(1, Arbitraries.just(new Restore())),
        Tuple.of(1, Arbitraries.integers().between(0, 5).map(Replay::new)));
    return op.list().ofMinSize(1).ofMaxSize(50)
        .withSizeDistribution(RandomDistribution.uniform());
  }
}

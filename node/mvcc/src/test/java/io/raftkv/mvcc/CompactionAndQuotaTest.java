package io.raftkv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Background reclamation of compacted history, the hash across it, and the space quota. */
class CompactionAndQuotaTest {

  @TempDir Path dir;

  static Bytes b(String s) {
    return Bytes.of(s);
  }

  /** Blocks the compactor after its first batch until released. */
  private static final class Gate implements CompactionListener {
    final CountDownLatch reached = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    volatile long finishedDeleted = -1;

    @Override
    public void onBatch(long compactRevision, long deleted) {
      reached.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void onFinished(long compactRevision, long deleted) {
      finishedDeleted = deleted;
    }
  }

  @Test
  void writesAndReadsSucceedWhileCompactionReclaimsHistory() throws Exception {
    Gate gate = new Gate();
    MvccOptions options = MvccOptions.defaults().withCompactionBatchSize(5)
        .withCompactionListener(gate);
    try (RocksDbKvStore store = RocksDbKvStore.open(dir, options)) {
      try {
        reclaimWhileWriting(store, gate);
      } finally {
        gate.release.countDown();
      }
    }
  }

  private static void reclaimWhileWriting(RocksDbKvStore store, Gate gate) throws Exception {
    {
      long i = 0;
      for (int round = 0; round < 20; round++) {
        for (int k = 0; k < 10; k++) {
          store.put(++i, PutRequest.of(b("k" + k), b("v" + round)));
        }
      }
      long compactAt = store.currentRevision();
      long storedBefore = store.storedVersionCount();
      store.compact(++i, compactAt);
      assertThat(gate.reached.await(1, TimeUnit.MINUTES)).isTrue();

      // The compactor is parked between batches: history is half reclaimed.
      long midway = store.storedVersionCount();
      assertThat(midway).isLessThan(storedBefore).isGreaterThan(10);
      HashKvResult hashMidway = store.hash(compactAt);
      for (int k = 0; k < 10; k++) {
        PutResponse r = store.put(++i, PutRequest.of(b("k" + k), b("during")));
        assertThat(r.revision()).isEqualTo(compactAt + k + 1);
      }
      assertThat(store.range(RangeRequest.all().atRevision(compactAt)).kvs())
          .hasSize(10).allSatisfy(kv -> assertThat(kv.value()).isEqualTo(b("v19")));
      assertThat(store.range(RangeRequest.all()).kvs())
          .allSatisfy(kv -> assertThat(kv.value()).isEqualTo(b("during")));

      gate.release.countDown();
      store.awaitBackgroundCompaction();
      assertThat(gate.finishedDeleted).isEqualTo(190);
      assertThat(store.storedVersionCount()).isEqualTo(20);
      assertThat(store.hash(compactAt)).as("hash ignores physical progress")
          .isEqualTo(hashMidway);
    }
  }

  @Test
  void compactionKeepsLatestVersionsAndDropsDeletedKeys() throws Exception {
    try (RocksDbKvStore store = RocksDbKvStore.open(dir)) {
      store.put(1, PutRequest.of(b("a"), b("1")));
      store.put(2, PutRequest.of(b("a"), b("2")));
      store.put(3, PutRequest.of(b("gone"), b("1")));
      store.deleteRange(4, DeleteRangeRequest.key(b("gone")));
      store.put(5, PutRequest.of(b("late"), b("1")));
      store.compact(6, 6);
      store.awaitBackgroundCompaction();
      assertThat(store.storedVersionCount()).as("a@3 kept, late@6 kept").isEqualTo(2);
      assertThat(store.range(RangeRequest.all().atRevision(6)).kvs())
          .extracting(KeyValue::value).containsExactly(b("2"), b("1"));
      assertThat(store.range(RangeRequest.all()).kvs()).hasSize(2);
    }
  }

  @Test
  void tombstoneAtCompactedRevisionStaysVisibleToWatchers() throws Exception {
    try (RocksDbKvStore store = RocksDbKvStore.open(dir)) {
      store.put(1, PutRequest.of(b("a"), b("1")));
      store.deleteRange(2, DeleteRangeRequest.key(b("a")));
      store.compact(3, 3);
      store.awaitBackgroundCompaction();
      assertThat(store.events(3, 3)).extracting(Event::type).containsExactly(Event.Type.DELETE);
    }
  }

  @Test
  void everyEventOfTheCompactedRevisionSurvivesReclamation() throws Exception {
    try (RocksDbKvStore store = RocksDbKvStore.open(dir)) {
      store.put(1, PutRequest.of(b("a"), b("1")));
      TxnRequest putA = new TxnRequest(List.of(), List.of(PutRequest.of(b("a"), b("2"))),
          List.of());
      TxnRequest deleteA = new TxnRequest(List.of(), List.of(DeleteRangeRequest.key(b("a"))),
          List.of());
      store.txn(2, new TxnRequest(List.of(), List.of(putA, deleteA), List.of()));
      List<Event> before = store.events(3, 3);
      store.compact(3, 3);
      store.awaitBackgroundCompaction();
      assertThat(store.events(3, 3)).extracting(Event::type)
          .containsExactly(Event.Type.PUT, Event.Type.DELETE);
      assertThat(store.events(3, 3)).extracting(Event::kv)
          .isEqualTo(before.stream().map(Event::kv).toList());
      assertThat(store.range(RangeRequest.all())).extracting(RangeResponse::count).isEqualTo(0L);
    }
  }

  @Test
  void concurrentReadersAlwaysSeeWholeTransactions() throws Exception {
    try (RocksDbKvStore store = RocksDbKvStore.open(dir,
        MvccOptions.defaults().withCompactionBatchSize(7))) {
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread[] readers = new Thread[2];
      java.util.concurrent.atomic.AtomicBoolean done =
          new java.util.concurrent.atomic.AtomicBoolean();
      for (int t = 0; t < readers.length; t++) {
        readers[t] = new Thread(() -> {
          try {
            while (!done.get()) {
              RangeResponse r = store.range(RangeRequest.all());
              List<Bytes> values = r.kvs().stream().map(KeyValue::value).distinct().toList();
              if (values.size() > 1) {
                throw new AssertionError("torn read at " + r.revision() + ": " + values);
              }
            }
          } catch (Throwable e) {
            failure.compareAndSet(null, e);
          }
        });
        readers[t].start();
      }
      long i = 0;
      for (int round = 0; round < 300; round++) {
        List<RequestOp> puts = new ArrayList<>();
        for (String k : List.of("a", "b", "c")) {
          puts.add(PutRequest.of(b(k), b("v" + round)));
        }
        store.txn(++i, new TxnRequest(List.of(), puts, List.of()));
        if (round % 50 == 49) {
          store.compact(++i, store.currentRevision() - 1);
        }
      }
      done.set(true);
      for (Thread t : readers) {
        t.join();
      }
      store.awaitBackgroundCompaction();
      assertThat(failure.get()).isNull();
    }
  }

  @Test
  void exceedingQuotaRaisesNoSpaceUntilDeleteAndCompactionFreeSpace() throws Exception {
    long quota = 64 * 1024;
    try (RocksDbKvStore store = RocksDbKvStore.open(dir,
        MvccOptions.defaults().withQuotaBytes(quota))) {
      Bytes big = Bytes.of(new byte[4096]);
      long i = 0;
      int written = 0;
      while (store.alarms().isEmpty()) {
        store.put(++i, PutRequest.of(b("k" + written), big));
        written++;
      }
      assertThat(written).as("the put that crosses the quota succeeds, as in etcd").isEqualTo(16);
      assertThat(store.historyBytes()).isGreaterThan(quota);
      assertThat(store.alarms()).isEqualTo(Set.of(Alarm.NOSPACE));
      long next = ++i;
      assertThatThrownBy(() -> store.put(next, PutRequest.of(b("more"), b("x"))))
          .isInstanceOf(MvccException.class).hasMessage(MvccException.Code.NO_SPACE.message());
      long next2 = ++i;
      assertThatThrownBy(() -> store.txn(next2, new TxnRequest(List.of(), List.of(),
          List.of(PutRequest.of(b("more"), b("x"))))))
          .hasMessage(MvccException.Code.NO_SPACE.message());
      long next3 = ++i;
      assertThatThrownBy(() -> store.leaseGrant(next3, 1, 10))
          .hasMessage(MvccException.Code.NO_SPACE.message());
      assertThat(store.txn(++i, new TxnRequest(List.of(),
          List.of(RangeRequest.key(b("k0"))), List.of())).succeeded())
          .as("a txn without puts is still served").isTrue();

      DeleteRangeResponse deleted = store.deleteRange(++i,
          DeleteRangeRequest.range(b("k"), b("l")));
      assertThat(deleted.deleted()).isEqualTo(written);
      assertThat(store.alarms()).as("tombstones add history until compacted").isNotEmpty();
      store.compact(++i, store.currentRevision());
      assertThat(store.alarms()).as("compaction frees at once, before reclamation").isEmpty();
      assertThat(store.historyBytes()).as("only the tombstones at the compacted revision")
          .isEqualTo(10 * (2 + 32) + 6 * (3 + 32));
      assertThat(store.put(++i, PutRequest.of(b("more"), b("x"))).revision())
          .isEqualTo(store.currentRevision());
      store.awaitBackgroundCompaction();
      assertThat(store.alarms()).isEmpty();
    }
  }

  @Test
  void historyBytesSurvivesReopenAndFollowsCompaction() throws Exception {
    long i = 0;
    try (RocksDbKvStore store = RocksDbKvStore.open(dir)) {
      store.put(++i, PutRequest.of(b("a"), b("12345")));
      assertThat(store.historyBytes()).isEqualTo(1 + 5 + 32);
      store.put(++i, PutRequest.of(b("a"), b("1")));
      assertThat(store.historyBytes()).isEqualTo(38 + 34);
      store.compact(++i, 2);
      assertThat(store.historyBytes()).as("nothing superseded at or below 2 yet").isEqualTo(72);
      store.compact(++i, 3);
      assertThat(store.historyBytes()).isEqualTo(34);
    }
    try (RocksDbKvStore store = RocksDbKvStore.open(dir)) {
      assertThat(store.historyBytes()).isEqualTo(34);
    }
  }
}

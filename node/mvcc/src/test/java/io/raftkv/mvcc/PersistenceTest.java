package io.raftkv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reopen and snapshot/restore: what survives, and how a bad stream is refused. */
class PersistenceTest {

  @TempDir Path dir;
  @TempDir Path other;

  static Bytes b(String s) {
    return Bytes.of(s);
  }

  /** Fills a store with history, a compaction, deletes and leases; returns the last index. */
  private static long fill(KvStore s) {
    long i = 0;
    s.leaseGrant(++i, 1, 30);
    s.leaseGrant(++i, 2, 60);
    s.leaseCheckpoint(++i, 2, 17);
    for (int round = 0; round < 5; round++) {
      for (String k : List.of("a", "b", "c\0x", "d")) {
        s.put(++i, PutRequest.of(b(k), b(k + round), round % 2 == 0 ? 1 : 0));
      }
    }
    s.deleteRange(++i, DeleteRangeRequest.key(b("b")));
    s.compact(++i, 8);
    s.put(++i, PutRequest.of(b("e"), b("late"), 2));
    s.deleteRange(++i, DeleteRangeRequest.key(b("zz")));
    return i;
  }

  private static void assertSameReads(KvStore expected, KvStore actual) {
    assertThat(actual.appliedIndex()).isEqualTo(expected.appliedIndex());
    assertSameData(expected, actual);
  }

  /** Same keys, history, revisions and leases; the applied Raft index may differ. */
  private static void assertSameData(KvStore expected, KvStore actual) {
    assertThat(actual.currentRevision()).isEqualTo(expected.currentRevision());
    assertThat(actual.compactRevision()).isEqualTo(expected.compactRevision());
    assertThat(actual.leases()).isEqualTo(expected.leases());
    for (Lease l : expected.leases()) {
      assertThat(actual.leaseTimeToLive(l.id(), true))
          .isEqualTo(expected.leaseTimeToLive(l.id(), true));
    }
    for (long rev = expected.compactRevision(); rev <= expected.currentRevision(); rev++) {
      RangeRequest all = RangeRequest.all().atRevision(rev);
      assertThat(actual.range(all)).isEqualTo(expected.range(all));
      assertThat(actual.hash(rev)).isEqualTo(expected.hash(rev));
    }
    assertThat(actual.events(expected.compactRevision(), Long.MAX_VALUE))
        .isEqualTo(expected.events(expected.compactRevision(), Long.MAX_VALUE));
  }

  @Test
  void reopenKeepsRevisionDataLeasesRemainingTtlAndAppliedIndex() {
    Path copyDir = other.resolve("reference");
    try (RocksDbKvStore reference = RocksDbKvStore.open(copyDir)) {
      long last = fill(reference);
      try (RocksDbKvStore first = RocksDbKvStore.open(dir)) {
        fill(first);
      }
      try (RocksDbKvStore reopened = RocksDbKvStore.open(dir)) {
        assertThat(reopened.appliedIndex()).isEqualTo(last);
        assertThat(reopened.leaseTimeToLive(2, false).lease()).isEqualTo(new Lease(2, 60, 17));
        assertSameReads(reference, reopened);
      }
    }
  }

  /**
   * Stores written before the "state" row kept appliedIndex, revision and historyBytes in three
   * rows; such a store (or a snapshot of one) still opens at the same point and goes on.
   */
  @Test
  void aStoreInTheEarlierMetaLayoutOpensWhereItWas() throws Exception {
    long last;
    long revision;
    long history;
    try (RocksDbKvStore first = RocksDbKvStore.open(dir)) {
      last = fill(first);
      revision = first.currentRevision();
      history = first.historyBytes();
    }
    List<byte[]> names = List.of(org.rocksdb.RocksDB.DEFAULT_COLUMN_FAMILY, Codec.ascii("kv"),
        Codec.ascii("rev"), Codec.ascii("lease"), Codec.ascii("leasekey"));
    List<org.rocksdb.ColumnFamilyDescriptor> descriptors = names.stream()
        .map(org.rocksdb.ColumnFamilyDescriptor::new).toList();
    List<org.rocksdb.ColumnFamilyHandle> handles = new java.util.ArrayList<>();
    try (org.rocksdb.DBOptions options = new org.rocksdb.DBOptions();
        org.rocksdb.RocksDB raw = org.rocksdb.RocksDB.open(options, dir.toString(), descriptors, handles)) {
      org.rocksdb.ColumnFamilyHandle meta = handles.get(0);
      assertThat(raw.get(meta, Codec.META_STATE)).isNotNull();
      raw.delete(meta, Codec.META_STATE);
      raw.put(meta, Codec.META_APPLIED_INDEX, Codec.longBytes(last));
      raw.put(meta, Codec.META_REVISION, Codec.longBytes(revision));
      raw.put(meta, Codec.META_HISTORY_BYTES, Codec.longBytes(history));
      handles.forEach(org.rocksdb.ColumnFamilyHandle::close);
    }
    try (RocksDbKvStore reopened = RocksDbKvStore.open(dir);
        RocksDbKvStore reference = RocksDbKvStore.open(other.resolve("reference"))) {
      fill(reference);
      assertSameReads(reference, reopened);
      assertThat(reopened.historyBytes()).isEqualTo(history);
      reopened.put(last + 1, PutRequest.of(b("a"), b("next")));
      reference.put(last + 1, PutRequest.of(b("a"), b("next")));
      assertSameReads(reference, reopened);
      assertThat(reopened.historyBytes()).isEqualTo(reference.historyBytes());
    }
    try (RocksDbKvStore again = RocksDbKvStore.open(dir)) {
      assertThat(again.appliedIndex()).isEqualTo(last + 1);
      assertThat(again.currentRevision()).isEqualTo(revision + 1);
    }
  }

  /** durableIndex is what a crash would leave: it moves with flushes, not with applies. */
  @Test
  void durableIndexFollowsFlushesNotApplies() throws Exception {
    try (RocksDbKvStore s = RocksDbKvStore.open(dir)) {
      long last = fill(s);
      assertThat(s.durableIndex()).isZero();
      s.startSync();
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
      while (s.durableIndex() < last && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(s.durableIndex()).isEqualTo(last);
      s.put(last + 1, PutRequest.of(b("x"), b("y")));
      assertThat(s.durableIndex()).isEqualTo(last);
      s.sync();
      assertThat(s.durableIndex()).isEqualTo(last + 1);
    }
    try (RocksDbKvStore synced = RocksDbKvStore.open(other, MvccOptions.defaults().withSyncWrites(true))) {
      long last = fill(synced);
      assertThat(synced.durableIndex()).isEqualTo(last);
    }
  }

  @Test
  void reapplyingAfterReopenDoesNothing() {
    long last;
    long revision;
    try (RocksDbKvStore first = RocksDbKvStore.open(dir)) {
      last = fill(first);
      revision = first.currentRevision();
    }
    try (RocksDbKvStore reopened = RocksDbKvStore.open(dir)) {
      PutResponse r = reopened.put(last, PutRequest.of(b("a"), b("again")));
      assertThat(r.revision()).isEqualTo(revision);
      assertThat(r.prevKv()).isEmpty();
      reopened.leaseRevoke(last - 1, 1);
      assertThat(reopened.leases()).hasSize(2);
      assertThat(reopened.currentRevision()).isEqualTo(revision);
      assertThat(reopened.range(RangeRequest.key(b("a"))).kvs().get(0).value())
          .isEqualTo(b("a4"));
      reopened.put(last + 1, PutRequest.of(b("a"), b("new")));
      assertThat(reopened.currentRevision()).isEqualTo(revision + 1);
    }
  }

  @Test
  void snapshotRestoresIdenticalStore() throws Exception {
    try (RocksDbKvStore source = RocksDbKvStore.open(dir)) {
      fill(source);
      source.awaitBackgroundCompaction();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      SnapshotInfo info = source.snapshot(out);
      assertThat(info.appliedIndex()).isEqualTo(source.appliedIndex());
      assertThat(info.revision()).isEqualTo(source.currentRevision());
      assertThat(info.bytes()).isEqualTo(out.size());
      Path target = other.resolve("restored");
      try (RocksDbKvStore restored = RocksDbKvStore.restore(
          new ByteArrayInputStream(out.toByteArray()), target, MvccOptions.defaults())) {
        assertSameReads(source, restored);
        long next = source.appliedIndex() + 1;
        assertThat(restored.put(next, PutRequest.of(b("f"), b("1"), 1)))
            .isEqualTo(source.put(next, PutRequest.of(b("f"), b("1"), 1)));
        assertThat(restored.hash(0)).isEqualTo(source.hash(0));
      }
    }
  }

  @Test
  void restoreForNewClusterKeepsDataAndRevisionsButAppliesANewLogFromIndexOne() throws Exception {
    try (RocksDbKvStore source = RocksDbKvStore.open(dir)) {
      fill(source);
      source.awaitBackgroundCompaction();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      source.snapshot(out);
      try (RocksDbKvStore restored = RocksDbKvStore.restoreForNewCluster(
          new ByteArrayInputStream(out.toByteArray()), other.resolve("seed"), MvccOptions.defaults())) {
        assertSameData(source, restored);
        assertThat(restored.appliedIndex()).isZero();
        assertThat(restored.currentRevision()).isEqualTo(source.currentRevision());
        // index 1 of the new cluster's log applies: the next revision follows the snapshot's
        PutResponse put = restored.put(1, PutRequest.of(b("new-log"), b("1"), 0));
        assertThat(put.revision()).isEqualTo(source.currentRevision() + 1);
        assertThat(restored.appliedIndex()).isEqualTo(1);
      }
    }
  }

  @Test
  void snapshotTakenDuringCompactionRestoresSameHash() throws Exception {
    try (RocksDbKvStore source = RocksDbKvStore.open(dir)) {
      fill(source);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      source.snapshot(out);
      try (RocksDbKvStore restored = RocksDbKvStore.restore(
          new ByteArrayInputStream(out.toByteArray()), other.resolve("r"),
          MvccOptions.defaults())) {
        restored.awaitBackgroundCompaction();
        source.awaitBackgroundCompaction();
        assertSameReads(source, restored);
      }
    }
  }

  @Test
  void corruptSnapshotIsRefusedWithItsOffset() throws Exception {
    byte[] bytes;
    try (RocksDbKvStore source = RocksDbKvStore.open(dir)) {
      fill(source);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      source.snapshot(out);
      bytes = out.toByteArray();
    }
    byte[] flipped = bytes.clone();
    flipped[40] ^= 1;
    assertThatThrownBy(() -> RocksDbKvStore.restore(new ByteArrayInputStream(flipped),
        other.resolve("a"), MvccOptions.defaults()))
        .isInstanceOf(IOException.class).hasMessageContaining("corrupt at offset 8");
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 3);
    assertThatThrownBy(() -> RocksDbKvStore.restore(new ByteArrayInputStream(truncated),
        other.resolve("b"), MvccOptions.defaults()))
        .isInstanceOf(IOException.class).hasMessageContaining("truncated");
  }

  @Test
  void restoreIntoNonEmptyDirectoryIsRefused() throws Exception {
    Files.writeString(other.resolve("stray"), "x");
    assertThatThrownBy(() -> RocksDbKvStore.restore(new ByteArrayInputStream(new byte[0]),
        other, MvccOptions.defaults())).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void interruptedCompactionResumesAfterReopen() throws Exception {
    java.util.concurrent.CountDownLatch filled = new java.util.concurrent.CountDownLatch(1);
    MvccOptions failingMidway = MvccOptions.defaults().withCompactionBatchSize(1)
        .withCompactionListener(new CompactionListener() {
          @Override
          public void onBatch(long compactRevision, long deleted) {
            try {
              filled.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("simulated crash after the first batch");
          }
        });
    long storedAtCrash;
    try (RocksDbKvStore s = RocksDbKvStore.open(dir, failingMidway)) {
      try {
        fill(s);
      } finally {
        filled.countDown();
      }
      assertThatThrownBy(s::awaitBackgroundCompaction).hasMessageContaining("compaction failed");
      storedAtCrash = s.storedVersionCount();
    }
    try (RocksDbKvStore reference = RocksDbKvStore.open(other.resolve("ref"))) {
      fill(reference);
      reference.awaitBackgroundCompaction();
      assertThat(storedAtCrash).isGreaterThan(reference.storedVersionCount());
      try (RocksDbKvStore s = RocksDbKvStore.open(dir)) {
        s.awaitBackgroundCompaction();
        assertThat(s.storedVersionCount()).isEqualTo(reference.storedVersionCount());
        assertSameReads(reference, s);
      }
    }
  }
}

package io.raftkv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store writes no WAL of its own (the Raft log is the WAL): a process that dies without
 * closing it loses what was not flushed yet. This kills a real child JVM mid-stream (halt, no
 * shutdown hooks, no close) and proves what the contract promises: the reopened store holds
 * exactly the effects of the entries up to its appliedIndex (the same data as a store that
 * applied only those), and replaying the rest of the "log" gives the same store as one that never
 * crashed.
 */
class StoreCrashTest {

  @TempDir Path dir;

  /** Small memtables, so that the child's puts fill a few of them. */
  static final MvccOptions OPTIONS = MvccOptions.defaults().withWriteBufferBytes(4L << 20);

  /** Entries the child applies: 256-byte puts enough to fill a 4 MiB memtable about twice. */
  static final int ENTRIES = 40_000;

  /** The deterministic "log": entry {@code index} (1-based) of seed 7. */
  static void applyEntries(KvStore s, long from, long to) {
    SplittableRandom rnd = new SplittableRandom(7);
    byte[] value = new byte[256];
    for (long i = 1; i <= to; i++) {
      int op = rnd.nextInt(100);
      Bytes key = Bytes.of("k" + rnd.nextInt(5_000));
      rnd.nextBytes(value);
      if (i < from) {
        continue;
      }
      try {
        if (i == 1) {
          s.leaseGrant(i, 42, 600);
        } else if (op < 90) {
          s.put(i, PutRequest.of(key, Bytes.of(value.clone()), op < 5 ? 42 : 0));
        } else if (op < 97) {
          s.deleteRange(i, DeleteRangeRequest.key(key));
        } else if (op < 99 || s.currentRevision() < 100) {
          s.markApplied(i);
        } else {
          s.compact(i, s.currentRevision() - 50);
        }
      } catch (MvccException refused) {
        // consumes its index on every replica alike
      }
    }
  }

  /** The child: applies every entry, then dies without closing the store. */
  public static void main(String[] args) {
    KvStore s = RocksDbKvStore.open(Path.of(args[0]), OPTIONS);
    applyEntries(s, 1, ENTRIES);
    System.out.println("applied " + s.appliedIndex());
    System.out.flush();
    Runtime.getRuntime().halt(0);
  }

  @Test
  void aStoreThatDiesUnclosedReopensAtAConsistentPrefixAndReplaysTheRest() throws Exception {
    Path crashed = dir.resolve("crashed");
    Process child = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), StoreCrashTest.class.getName(), crashed.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
    assertThat(child.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(Files.readString(dir.resolve("child.log"))).contains("applied " + ENTRIES);

    try (RocksDbKvStore reopened = RocksDbKvStore.open(crashed, OPTIONS)) {
      long applied = reopened.appliedIndex();
      System.out.println("StoreCrashTest: the store reopened at index " + applied + " of " + ENTRIES);
      // Something was flushed (the memtables filled), and not everything (no close, no WAL).
      assertThat(applied).isBetween(1L, (long) ENTRIES - 1);
      try (RocksDbKvStore prefix = RocksDbKvStore.open(dir.resolve("prefix"), OPTIONS)) {
        applyEntries(prefix, 1, applied);
        assertSameData(prefix, reopened);
      }
      applyEntries(reopened, applied + 1, ENTRIES);
      try (RocksDbKvStore whole = RocksDbKvStore.open(dir.resolve("whole"), OPTIONS)) {
        applyEntries(whole, 1, ENTRIES);
        assertSameData(whole, reopened);
        assertThat(reopened.appliedIndex()).isEqualTo(whole.appliedIndex());
      }
    }
  }

  private static void assertSameData(RocksDbKvStore expected, RocksDbKvStore actual) throws Exception {
    expected.awaitBackgroundCompaction();
    actual.awaitBackgroundCompaction();
    assertThat(actual.currentRevision()).isEqualTo(expected.currentRevision());
    assertThat(actual.compactRevision()).isEqualTo(expected.compactRevision());
    assertThat(actual.historyBytes()).isEqualTo(expected.historyBytes());
    assertThat(actual.leases()).isEqualTo(expected.leases());
    assertThat(actual.hash(0)).isEqualTo(expected.hash(0));
    RangeRequest all = RangeRequest.all();
    assertThat(actual.range(all)).isEqualTo(expected.range(all));
    long from = expected.compactRevision() + 1;
    List<Event> history = expected.events(from, Long.MAX_VALUE);
    assertThat(history).isNotEmpty();
    assertThat(actual.events(from, Long.MAX_VALUE)).isEqualTo(history);
  }
}

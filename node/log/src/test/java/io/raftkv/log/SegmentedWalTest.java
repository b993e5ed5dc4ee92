package io.raftkv.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.raftkv.raft.ConfState;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.Snapshot;
import io.raftkv.raft.SnapshotMetadata;
import io.raftkv.raft.Storage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentedWalTest {
    private static final SegmentedWal.Options SMALL = SegmentedWal.Options.defaults().withSegmentSizeBytes(8192);

    @TempDir
    Path dir;

    @Test
    void freshLogIsEmpty() throws IOException {
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            assertThat(wal.firstIndex()).isEqualTo(1);
            assertThat(wal.lastIndex()).isZero();
            assertThat(wal.term(0)).isZero();
            assertThat(wal.initialState().hardState()).isEqualTo(HardState.EMPTY);
            assertThat(wal.snapshot()).isEqualTo(Snapshot.EMPTY);
            assertThatThrownBy(() -> wal.term(1)).isInstanceOf(Storage.UnavailableException.class);
        }
    }

    @Test
    void persistedStateSurvivesReopen() throws IOException {
        HardState hs = new HardState(3, 2, 40);
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            for (long i = 1; i <= 600; i += 10) {
                wal.persist(hs, TestEntries.range(i, i + 9, 3), null);
            }
        }
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            assertThat(wal.initialState().hardState()).isEqualTo(hs);
            assertThat(wal.lastIndex()).isEqualTo(600);
            assertThat(wal.entries(1, 601, Long.MAX_VALUE)).isEqualTo(TestEntries.range(1, 600, 3));
            assertThat(segmentCount()).isGreaterThan(2);
        }
    }

    @Test
    void commitOnlyHardStateIsNotSyncedAndARestartFallsBackToTheLastWrittenCommit() throws IOException {
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            wal.persist(new HardState(2, 1, 5), TestEntries.range(1, 10, 2), null, true);
            long before = wal.syncCount();
            wal.persist(new HardState(2, 1, 9), List.of(), null, false);
            assertThat(wal.syncCount()).isEqualTo(before);
            assertThat(wal.initialState().hardState().commit()).isEqualTo(9);
        }
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            assertThat(wal.initialState().hardState()).isEqualTo(new HardState(2, 1, 5));
            assertThat(wal.lastIndex()).isEqualTo(10);
        }
    }

    @Test
    void unsyncedTermOrVoteChangeIsRefused() throws IOException {
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            wal.persist(new HardState(2, 1, 0), List.of(), null, true);
            assertThatThrownBy(() -> wal.persist(new HardState(3, 1, 0), List.of(), null, false))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void segmentHeaderCarryingANewerCommitThanTheWrittenRecordsIsAccepted() throws IOException {
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            long commit = 0;
            for (long i = 1; i <= 600; i += 10) {
                wal.persist(new HardState(3, 2, commit), TestEntries.range(i, i + 9, 3), null, true);
                commit = i + 9;
                wal.persist(new HardState(3, 2, commit), List.of(), null, false);
            }
            assertThat(segmentCount()).isGreaterThan(2);
        }
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            assertThat(wal.lastIndex()).isEqualTo(600);
            assertThat(wal.initialState().hardState().commit()).isBetween(1L, 600L);
            assertThat(wal.entries(1, 601, Long.MAX_VALUE)).isEqualTo(TestEntries.range(1, 600, 3));
        }
    }

    @Test
    void everyPersistIsExactlyOneFsyncEvenWhenStartingASegment() throws IOException {
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            long index = 1;
            for (int round = 0; round < 100; round++) {
                long before = wal.syncCount();
                wal.persist(new HardState(1, 1, index - 1), TestEntries.range(index, index + 4, 1), null);
                assertThat(wal.syncCount() - before).isEqualTo(1);
                index += 5;
            }
            assertThat(segmentCount()).isGreaterThan(3);
            long before = wal.syncCount();
            wal.persist(null, List.of(), null);
            assertThat(wal.syncCount()).isEqualTo(before);
        }
    }

    @Test
    void conflictingSuffixIsReplacedAndStaysReplacedAfterReopen() throws IOException {
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            wal.persist(null, TestEntries.range(1, 10, 1), null);
            wal.persist(null, TestEntries.range(6, 8, 2), null);
            assertThat(wal.lastIndex()).isEqualTo(8);
            assertThat(wal.term(5)).isEqualTo(1);
            assertThat(wal.term(6)).isEqualTo(2);
        }
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            assertThat(wal.lastIndex()).isEqualTo(8);
            assertThat(wal.entries(1, 9, Long.MAX_VALUE)).containsExactlyElementsOf(
                    Stream.concat(TestEntries.range(1, 5, 1).stream(), TestEntries.range(6, 8, 2).stream()).toList());
        }
    }

    @Test
    void appendLeavingAGapIsRefusedAndWritesNothing() throws IOException {
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            wal.persist(null, TestEntries.range(1, 3, 1), null);
            long before = wal.syncCount();
            assertThatThrownBy(() -> wal.persist(null, TestEntries.range(5, 6, 1), null))
                    .isInstanceOf(IllegalStateException.class);
            assertThat(wal.syncCount()).isEqualTo(before);
            wal.persist(null, TestEntries.range(4, 4, 1), null);
        }
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            assertThat(wal.lastIndex()).isEqualTo(4);
        }
    }

    @Test
    void compactionBeyondTheSnapshotIsRefused() throws IOException {
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            wal.persist(null, TestEntries.range(1, 10, 1), null);
            assertThatThrownBy(() -> wal.compact(5)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("snapshot");
            wal.createSnapshot(5, ConfState.ofVoters(Set.of(1L)), new byte[] {7});
            wal.compact(5);
            assertThat(wal.firstIndex()).isEqualTo(6);
            assertThat(wal.term(5)).isEqualTo(1);
            assertThatThrownBy(() -> wal.entries(5, 6, 100)).isInstanceOf(Storage.CompactedException.class);
        }
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            assertThat(wal.firstIndex()).isEqualTo(6);
            assertThat(wal.snapshot().metadata().index()).isEqualTo(5);
            assertThat(wal.snapshot().data()).containsExactly(7);
            assertThat(wal.initialState().confState()).isEqualTo(ConfState.ofVoters(Set.of(1L)));
        }
    }

    @Test
    void compactedSegmentsAreDeletedAndNotReadOnReopen() throws Exception {
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            for (long i = 1; i <= 1000; i += 20) {
                wal.persist(new HardState(1, 1, i - 1), TestEntries.range(i, i + 19, 1), null);
            }
            int before = segmentCount();
            wal.createSnapshot(990, ConfState.ofVoters(Set.of(1L)), new byte[0]);
            wal.compact(990);
            wal.sync();
            wal.persist(null, TestEntries.range(1001, 1001, 1), null);
            wal.close();
            assertThat(segmentCount()).isLessThan(before).isLessThanOrEqualTo(3);
        }
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            assertThat(wal.firstIndex()).isEqualTo(991);
            assertThat(wal.entries(991, 1002, Long.MAX_VALUE)).hasSize(11);
        }
    }

    @Test
    void installedSnapshotReplacesTheLog() throws IOException {
        Snapshot snap = new Snapshot(new SnapshotMetadata(50, 4, ConfState.ofVoters(Set.of(1L, 2L, 3L))),
                new byte[] {1, 2, 3});
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            wal.persist(null, TestEntries.range(1, 10, 1), null);
            wal.persist(new HardState(4, 0, 50), TestEntries.range(51, 52, 4), snap);
            assertThat(wal.firstIndex()).isEqualTo(51);
            assertThat(wal.lastIndex()).isEqualTo(52);
            assertThat(wal.term(50)).isEqualTo(4);
        }
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            assertThat(wal.firstIndex()).isEqualTo(51);
            assertThat(wal.lastIndex()).isEqualTo(52);
            assertThat(wal.snapshot().metadata()).isEqualTo(snap.metadata());
            assertThat(wal.snapshot().data()).containsExactly(1, 2, 3);
            assertThat(wal.entries(51, 53, Long.MAX_VALUE)).isEqualTo(TestEntries.range(51, 52, 4));
        }
    }

    @Test
    void bootstrapSnapshotAtIndexZeroSetsTheInitialConfState() throws IOException {
        ConfState initial = ConfState.ofVoters(Set.of(1L, 2L, 3L));
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            wal.persist(null, List.of(), new Snapshot(new SnapshotMetadata(0, 0, initial), null));
            assertThat(wal.initialState().confState()).isEqualTo(initial);
            assertThat(wal.firstIndex()).isEqualTo(1);
        }
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            assertThat(wal.initialState().confState()).isEqualTo(initial);
            assertThat(wal.lastIndex()).isZero();
        }
    }

    @Test
    void entriesAreReadFromDiskWhenNotCached() throws IOException {
        SegmentedWal.Options noCache = SMALL.withCacheEntries(0);
        try (SegmentedWal wal = SegmentedWal.open(dir, noCache)) {
            wal.persist(null, TestEntries.range(1, 300, 2), null);
            List<Entry> all = wal.entries(1, 301, Long.MAX_VALUE);
            assertThat(all).isEqualTo(TestEntries.range(1, 300, 2));
            assertThat(wal.entries(1, 301, 200)).hasSizeLessThan(300).isNotEmpty();
        }
    }

    @Test
    void startedPersistIsDurableOnlyOnceAwaitedAndSurvivesReopen() throws IOException {
        HardState hs = new HardState(2, 1, 5);
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            wal.persist(hs, TestEntries.range(1, 10, 2), null);
            long syncs = wal.syncCount();
            wal.startPersist(hs, TestEntries.range(11, 20, 2), null, true);
            // written (readable) at once, durable only once awaited
            assertThat(wal.lastIndex()).isEqualTo(20);
            assertThat(wal.entries(11, 21, Long.MAX_VALUE)).isEqualTo(TestEntries.range(11, 20, 2));
            assertThat(wal.durableLastIndex()).isEqualTo(10);
            assertThat(wal.awaitPersist()).isPositive();
            assertThat(wal.durableLastIndex()).isEqualTo(20);
            assertThat(wal.syncCount()).isEqualTo(syncs + 1);
            assertThat(wal.awaitPersist()).isEqualTo(-1);
            // a persist that follows a started one that nobody awaited waits for it itself
            wal.startPersist(hs, TestEntries.range(21, 30, 2), null, true);
            wal.persist(hs, TestEntries.range(31, 40, 2), null);
            assertThat(wal.durableLastIndex()).isEqualTo(40);
        }
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            assertThat(wal.lastIndex()).isEqualTo(40);
            assertThat(wal.entries(1, 41, Long.MAX_VALUE)).isEqualTo(TestEntries.range(1, 40, 2));
            assertThat(wal.initialState().hardState()).isEqualTo(hs);
        }
    }

    @Test
    void segmentsAStartedPersistCompactsAwayAreDeletedOnlyOnceItIsDurable() throws Exception {
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            for (long i = 1; i <= 1000; i += 20) {
                wal.persist(new HardState(1, 1, i - 1), TestEntries.range(i, i + 19, 1), null);
            }
            int before = wal.liveSegments();
            wal.createSnapshot(990, ConfState.ofVoters(Set.of(1L)), new byte[0]);
            wal.compact(990);
            // the compaction record travels in this write: until its fdatasync is done a crash
            // would find the old state, which needs the old segments
            wal.startPersist(null, TestEntries.range(1001, 1001, 1), null, true);
            assertThat(wal.liveSegments()).isEqualTo(before);
            wal.awaitPersist();
            assertThat(wal.liveSegments()).isLessThan(before).isLessThanOrEqualTo(3);
            wal.close();
            assertThat(segmentCount()).isLessThanOrEqualTo(3);
        }
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            assertThat(wal.firstIndex()).isEqualTo(991);
            assertThat(wal.entries(991, 1002, Long.MAX_VALUE)).hasSize(11);
        }
    }

    @Test
    void secondOpenOfTheSameDirectoryFails() throws IOException {
        try (SegmentedWal wal = SegmentedWal.open(dir, SMALL)) {
            assertThatThrownBy(() -> SegmentedWal.open(dir, SMALL)).isInstanceOf(IOException.class)
                    .hasMessageContaining("in use");
        }
    }

    private int segmentCount() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return (int) s.filter(p -> p.toString().endsWith(".wal")).count();
        }
    }
}

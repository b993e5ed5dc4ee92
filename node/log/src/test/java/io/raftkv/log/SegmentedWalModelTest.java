package io.raftkv.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.raftkv.raft.ConfState;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.MemoryStorage;
import io.raftkv.raft.Snapshot;
import io.raftkv.raft.SnapshotMetadata;
import io.raftkv.raft.Storage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Model-based test: random Raft-consistent histories of persist (with suffix overwrites above
 * the commit point), snapshot creation, compaction, snapshot installation and reopen, applied to
 * both the log and {@link MemoryStorage}; every observable answer is compared after every step.
 * Small segments and a tiny cache make segment rolls, reclamation and disk reads frequent.
 */
class SegmentedWalModelTest {
    private static final SegmentedWal.Options OPTIONS =
            new SegmentedWal.Options(4096, 8);

    /** One step; its numbers are scaled to a valid choice in the current state. */
    record Step(int kind, int a, int b, int c) {
    }

    @Provide
    Arbitrary<List<Step>> histories() {
        Arbitrary<Integer> n = Arbitraries.integers().between(0, 9999);
        return Combinators.combine(Arbitraries.integers().between(0, 99), n, n, n).as(Step::new)
                .list().ofMinSize(1).ofMaxSize(50);
    }

    @Property(tries = 250)
    void logAnswersLikeMemoryStorageAfterEveryStep(@ForAll("histories") List<Step> history) throws IOException {
        Path dir = Files.createTempDirectory("wal-model");
        Model model = new Model(dir);
        try {
            for (Step step : history) {
                model.apply(step);
                model.check(step);
            }
        } finally {
            model.wal.close();
            deleteRecursively(dir);
        }
    }

    private static final class Model {
        final Path dir;
        final MemoryStorage ref = new MemoryStorage();
        SegmentedWal wal;
        long term = 1;
        long commit;

        Model(Path dir) throws IOException {
            this.dir = dir;
            this.wal = SegmentedWal.open(dir, OPTIONS);
        }

        void apply(Step s) throws IOException {
            int k = s.kind();
            if (k < 50) {
                append(s);
            } else if (k < 58) {
                commit = Math.min(ref.lastIndex(), commit + s.a() % 10);
                persist(hardState(s), List.of(), null);
            } else if (k < 70) {
                snapshotAndCompact(s);
            } else if (k < 78) {
                install(s);
            } else {
                wal.close();
                wal = SegmentedWal.open(dir, OPTIONS);
            }
        }

        private HardState hardState(Step s) {
            return new HardState(term, s.b() % 3, commit);
        }

        private void persist(HardState hs, List<Entry> entries, Snapshot snap) throws IOException {
            wal.persist(hs, entries, snap);
            if (snap != null) {
                ref.applySnapshot(snap);
            }
            ref.append(entries);
            if (hs != null) {
                ref.setHardState(hs);
            }
        }

        /** New entries start anywhere above the commit point (Raft §5.3: only uncommitted entries conflict). */
        private void append(Step s) throws IOException {
            long lowest = Math.max(commit + 1, ref.firstIndex());
            long last = ref.lastIndex();
            long start = last + 1 - Math.min(last + 1 - lowest, s.a() % 8);
            if (start <= last || s.b() % 10 == 0) {
                term++;
            }
            int count = 1 + s.c() % (s.c() % 5 == 0 ? 120 : 12);
            List<Entry> entries = TestEntries.range(start, start + count - 1, term);
            long newLast = start + count - 1;
            HardState hs = null;
            if (s.b() % 3 != 0) {
                commit = Math.min(newLast, commit + s.b() % 15);
                hs = hardState(s);
            }
            persist(hs, entries, null);
        }

        private void snapshotAndCompact(Step s) throws IOException {
            long snapIndex = ref.snapshot().metadata().index();
            if (commit > snapIndex) {
                long at = snapIndex + 1 + s.a() % (commit - snapIndex);
                ConfState cs = ConfState.ofVoters(Set.of(1L, 2L + s.b() % 3));
                byte[] data = TestEntries.data(at, term, s.c() % 40);
                Snapshot mine = wal.createSnapshot(at, cs, data);
                Snapshot theirs = ref.createSnapshot(at, cs, data);
                assertThat(mine.metadata()).isEqualTo(theirs.metadata());
            }
            snapIndex = ref.snapshot().metadata().index();
            long first = ref.firstIndex();
            if (snapIndex >= first) {
                long upTo = first + s.c() % (snapIndex - first + 1);
                wal.compact(upTo);
                ref.compact(upTo);
            }
            if (s.b() % 2 == 0) {
                wal.sync();
            }
        }

        /** A snapshot from the leader: newer ones replace the log, older ones are ignored. */
        private void install(Step s) throws IOException {
            long snapIndex = ref.snapshot().metadata().index();
            // A leader sends a snapshot above the follower's commit point; a stale one may arrive late.
            long index = snapIndex > 0 && s.b() % 4 == 0
                    ? Math.max(1, snapIndex - s.a() % 5)
                    : commit + 1 + s.a() % 30;
            term++;
            ConfState cs = new ConfState(Set.of(1L, 2L, 3L), Set.of(4L + s.b() % 2), Set.of(), Set.of(), false);
            Snapshot snap = new Snapshot(new SnapshotMetadata(index, term, cs), TestEntries.data(index, term, 10));
            boolean installs = index > ref.snapshot().metadata().index() || ref.snapshot().isEmpty();
            List<Entry> entries = List.of();
            HardState hs = null;
            if (installs) {
                commit = Math.max(commit, index);
                hs = hardState(s);
                if (s.c() % 2 == 0) {
                    entries = TestEntries.range(index + 1, index + 1 + s.c() % 5, term);
                }
            }
            persist(hs, entries, snap);
        }

        void check(Step s) {
            assertSameAnswers(wal, ref, s);
        }
    }

    /**
     * Compares every observable answer of {@code wal} with the reference; {@code s} picks the
     * random range and size limit for one extra {@code entries} query.
     */
    static void assertSameAnswers(Storage wal, MemoryStorage ref, Step s) {
        String where = "after " + s;
        long first = ref.firstIndex();
        long last = ref.lastIndex();
        assertThat(wal.firstIndex()).as("firstIndex " + where).isEqualTo(first);
        assertThat(wal.lastIndex()).as("lastIndex " + where).isEqualTo(last);
        for (long i = first - 1; i <= last; i++) {
            assertThat(wal.term(i)).as("term(" + i + ") " + where).isEqualTo(ref.term(i));
        }
        if (first >= 2) {
            assertThatThrownBy(() -> wal.term(first - 2)).isInstanceOf(Storage.CompactedException.class);
            assertThatThrownBy(() -> wal.entries(first - 1, last + 1, Long.MAX_VALUE))
                    .isInstanceOf(Storage.CompactedException.class);
        }
        assertThatThrownBy(() -> wal.term(last + 1)).isInstanceOf(Storage.UnavailableException.class);
        assertThatThrownBy(() -> wal.entries(first, last + 2, Long.MAX_VALUE))
                .isInstanceOf(Storage.UnavailableException.class);
        assertThat(wal.entries(first, last + 1, Long.MAX_VALUE)).as("entries " + where)
                .isEqualTo(ref.entries(first, last + 1, Long.MAX_VALUE));
        if (last >= first) {
            long lo = first + s.a() % (last - first + 1);
            long hi = lo + 1 + s.c() % (last - lo + 1);
            long max = s.b() % 400;
            assertThat(wal.entries(lo, hi, max)).as("entries(" + lo + "," + hi + "," + max + ") " + where)
                    .isEqualTo(ref.entries(lo, hi, max));
        }
        assertThat(wal.initialState()).as("initialState " + where).isEqualTo(ref.initialState());
        assertThat(wal.snapshot().metadata()).as("snapshot " + where).isEqualTo(ref.snapshot().metadata());
        assertThat(wal.snapshot().data()).as("snapshot data " + where).isEqualTo(ref.snapshot().data());
    }

    @Example
    void checkerCatchesALogThatLostItsLastEntry() {
        MemoryStorage reference = new MemoryStorage();
        reference.append(TestEntries.range(1, 5, 1));
        MemoryStorage broken = new MemoryStorage();
        broken.append(TestEntries.range(1, 4, 1));
        assertThatThrownBy(() -> assertSameAnswers(broken, reference, new Step(0, 1, 2, 3)))
                .isInstanceOf(AssertionError.class).hasMessageContaining("lastIndex");
    }

    @Example
    void checkerCatchesALogWithAWrongTermOrPayload() {
        MemoryStorage reference = new MemoryStorage();
        reference.append(TestEntries.range(1, 5, 1));
        MemoryStorage wrongTerm = new MemoryStorage();
        wrongTerm.append(TestEntries.range(1, 4, 1));
        wrongTerm.append(TestEntries.range(5, 5, 2));
        assertThatThrownBy(() -> assertSameAnswers(wrongTerm, reference, new Step(0, 1, 2, 3)))
                .isInstanceOf(AssertionError.class).hasMessageContaining("term(5)");
        MemoryStorage wrongData = new MemoryStorage();
        wrongData.append(TestEntries.range(1, 4, 1));
        wrongData.append(List.of(new Entry(1, 5, io.raftkv.raft.EntryType.NORMAL, new byte[] {42})));
        assertThatThrownBy(() -> assertSameAnswers(wrongData, reference, new Step(0, 1, 2, 3)))
                .isInstanceOf(AssertionError.class).hasMessageContaining("entries");
    }

    static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

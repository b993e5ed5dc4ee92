package io.raftkv.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.raftkv.raft.ConfState;
import io.raftkv.raft.HardState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damage on disk: a torn last write is truncated on open, anything else fails open with the
 * file and offset. The log under test has several segments; every persist appends one batch of
 * 10 entries (indices 1..600, term 1, hard state commit = last index of the previous batch).
 */
class SegmentedWalCorruptionTest {
    private static final SegmentedWal.Options OPTIONS = new SegmentedWal.Options(8192, 0);
    private static final int LAST = 600;

    @TempDir
    Path root;
    Path original;

    @BeforeEach
    void writeLog() throws IOException {
        original = root.resolve("original");
        try (SegmentedWal wal = SegmentedWal.open(original, OPTIONS)) {
            for (long i = 1; i <= LAST; i += 10) {
                wal.persist(new HardState(1, 1, i - 1), TestEntries.range(i, i + 9, 1), null);
            }
        }
        assertThat(segments(original)).hasSizeGreaterThanOrEqualTo(4);
    }

    @Test
    void tailCutAtAnyOffsetOfTheLastRecordIsTruncatedToThePreviousBatch() throws IOException {
        Path tail = last(segments(original));
        SegmentScanner.Record rec = lastRecord(tail);
        int end = rec.offset() + WalFormat.HEADER_BYTES + rec.payload().limit();
        int n = 0;
        for (int cut = rec.offset(); cut < end; cut += 13) {
            Path copy = copy("cut-" + cut);
            zero(last(segments(copy)), cut, end);
            assertOpensWithLastIndex(copy, LAST - 10);
            n++;
        }
        for (int cut = rec.offset(); cut < end; cut += 97) {
            Path copy = copy("truncate-" + cut);
            try (FileChannel ch = FileChannel.open(last(segments(copy)), StandardOpenOption.WRITE)) {
                ch.truncate(cut);
            }
            assertOpensWithLastIndex(copy, LAST - 10);
            n++;
        }
        assertThat(n).isGreaterThan(20);
    }

    @Test
    void logKeepsWorkingAfterATornTailWasTruncated() throws IOException {
        Path tail = last(segments(original));
        SegmentScanner.Record rec = lastRecord(tail);
        flip(tail, rec.offset() + WalFormat.HEADER_BYTES + 5);
        try (SegmentedWal wal = SegmentedWal.open(original, OPTIONS)) {
            assertThat(wal.lastIndex()).isEqualTo(LAST - 10);
            wal.persist(null, TestEntries.range(LAST - 9, LAST + 5, 2), null);
        }
        try (SegmentedWal wal = SegmentedWal.open(original, OPTIONS)) {
            assertThat(wal.lastIndex()).isEqualTo(LAST + 5);
            assertThat(wal.entries(LAST - 9, LAST + 6, Long.MAX_VALUE))
                    .isEqualTo(TestEntries.range(LAST - 9, LAST + 5, 2));
        }
    }

    @Test
    void zeroFilledLastRecordIsTruncated() throws IOException {
        Path tail = last(segments(original));
        SegmentScanner.Record rec = lastRecord(tail);
        zero(tail, rec.offset(), rec.offset() + WalFormat.HEADER_BYTES + rec.payload().limit());
        assertOpensWithLastIndex(original, LAST - 10);
    }

    @Test
    void flippedByteInTheLastRecordIsTreatedAsATornWrite() throws IOException {
        Path tail = last(segments(original));
        SegmentScanner.Record rec = lastRecord(tail);
        flip(tail, rec.offset() + WalFormat.HEADER_BYTES + rec.payload().limit() - 3);
        assertOpensWithLastIndex(original, LAST - 10);
    }

    @Test
    void flippedByteInASealedSegmentFailsOpenNamingFileAndOffset() throws IOException {
        Path sealed = segments(original).get(1);
        SegmentScanner.Record rec = records(sealed).get(2);
        flip(sealed, rec.offset() + WalFormat.HEADER_BYTES + 40);
        assertThatThrownBy(() -> SegmentedWal.open(original, OPTIONS))
                .isInstanceOfSatisfying(LogCorruptionException.class, e -> {
                    assertThat(e.file()).isEqualTo(sealed);
                    assertThat(e.offset()).isEqualTo(rec.offset());
                })
                .hasMessageContaining(sealed.getFileName().toString())
                .hasMessageContaining("offset " + rec.offset());
    }

    @Test
    void flippedByteBeforeTheLastRecordOfTheTailFailsOpenBecauseAValidRecordFollows() throws IOException {
        Path tail = last(segments(original));
        List<SegmentScanner.Record> recs = records(tail);
        assertThat(recs).hasSizeGreaterThanOrEqualTo(3);
        SegmentScanner.Record rec = recs.get(recs.size() - 2);
        flip(tail, rec.offset() + 2);
        assertThatThrownBy(() -> SegmentedWal.open(original, OPTIONS))
                .isInstanceOf(LogCorruptionException.class)
                .hasMessageContaining(tail.getFileName().toString())
                .hasMessageContaining("offset " + rec.offset())
                .hasMessageContaining("followed by a valid record");
    }

    @Test
    void zeroedRecordInTheMiddleOfTheTailFailsOpen() throws IOException {
        Path tail = last(segments(original));
        List<SegmentScanner.Record> recs = records(tail);
        SegmentScanner.Record rec = recs.get(1);
        zero(tail, rec.offset(), rec.offset() + WalFormat.HEADER_BYTES);
        assertThatThrownBy(() -> SegmentedWal.open(original, OPTIONS))
                .isInstanceOf(LogCorruptionException.class)
                .hasMessageContaining("offset " + rec.offset());
    }

    @Test
    void missingMiddleSegmentFailsOpenNamingIt() throws IOException {
        Path middle = segments(original).get(2);
        Files.delete(middle);
        assertThatThrownBy(() -> SegmentedWal.open(original, OPTIONS))
                .isInstanceOf(LogCorruptionException.class)
                .hasMessageContaining(middle.getFileName().toString())
                .hasMessageContaining("missing");
    }

    @Test
    void missingNewestSegmentIsNotMistakenForATornWrite() throws IOException {
        List<Path> segs = segments(original);
        Files.delete(last(segs));
        Files.delete(segs.get(0));
        // The first segment is needed by the (now newest) second-to-last one: it must fail, not
        // silently start over.
        assertThatThrownBy(() -> SegmentedWal.open(original, OPTIONS)).isInstanceOf(LogCorruptionException.class);
    }

    @Test
    void damagedEntryReadFromDiskFailsLoudly() throws IOException {
        try (SegmentedWal wal = SegmentedWal.open(original, OPTIONS)) {
            Path first = segments(original).get(0);
            SegmentScanner.Record rec = records(first).get(1);
            flip(first, rec.offset() + WalFormat.HEADER_BYTES + 30);
            assertThatThrownBy(() -> wal.entries(1, 11, Long.MAX_VALUE))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasCauseInstanceOf(LogCorruptionException.class)
                    .hasMessageContaining(first.getFileName().toString());
        }
    }

    @Test
    void tornFirstWriteOfANewSegmentIsTruncated() throws IOException {
        Path dir = root.resolve("fresh-segment");
        long last = 0;
        try (SegmentedWal wal = SegmentedWal.open(dir, OPTIONS)) {
            int before = segmentsInUse(dir);
            while (segmentsInUse(dir) == before) {
                wal.persist(new HardState(1, 1, last), TestEntries.range(last + 1, last + 10, 1), null);
                last += 10;
            }
        }
        Path newest = last(segments(dir));
        assertThat(records(newest)).hasSize(2);
        int end = records(newest).get(1).offset() + 64;
        for (int cut : new int[] {0, 5, WalFormat.HEADER_BYTES + 3, records(newest).get(1).offset() + 20}) {
            Path copy = root.resolve("fresh-segment-cut-" + cut);
            Files.createDirectories(copy);
            for (Path p : segments(dir)) {
                Files.copy(p, copy.resolve(p.getFileName()));
            }
            zero(copy.resolve(newest.getFileName()), cut, end);
            try (SegmentedWal wal = SegmentedWal.open(copy, OPTIONS)) {
                assertThat(wal.lastIndex()).as("cut at " + cut).isEqualTo(last - 10);
                wal.persist(null, TestEntries.range(last - 9, last, 2), null);
            }
            try (SegmentedWal wal = SegmentedWal.open(copy, OPTIONS)) {
                assertThat(wal.lastIndex()).isEqualTo(last);
                assertThat(wal.term(last)).isEqualTo(2);
            }
        }
    }

    @Test
    void segmentsBelowTheCompactionPointAreNeitherReadNorKept() throws IOException {
        try (SegmentedWal wal = SegmentedWal.open(original, OPTIONS)) {
            wal.createSnapshot(LAST - 5, ConfState.ofVoters(Set.of(1L)), new byte[0]);
            wal.compact(LAST - 5);
        }
        List<Path> left = segments(original);
        Path gone = original.resolve(String.format("%016x.wal", 1));
        assertThat(left).doesNotContain(gone);
        // A stale, damaged file where a reclaimed segment was: open must not even look at it.
        Files.write(gone, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17});
        try (SegmentedWal wal = SegmentedWal.open(original, OPTIONS)) {
            assertThat(wal.firstIndex()).isEqualTo(LAST - 4);
            assertThat(wal.entries(LAST - 4, LAST + 1, Long.MAX_VALUE)).isEqualTo(TestEntries.range(LAST - 4, LAST, 1));
        }
        assertThat(gone).doesNotExist();
    }

    /** Segments holding at least a header (the prepared, still empty next segment excluded). */
    private static int segmentsInUse(Path dir) throws IOException {
        int n = 0;
        for (Path p : segments(dir)) {
            if (!records(p).isEmpty()) {
                n++;
            }
        }
        return n;
    }

    private void assertOpensWithLastIndex(Path dir, long lastIndex) throws IOException {
        try (SegmentedWal wal = SegmentedWal.open(dir, OPTIONS)) {
            assertThat(wal.lastIndex()).as(dir.toString()).isEqualTo(lastIndex);
            assertThat(wal.initialState().hardState()).isEqualTo(new HardState(1, 1, lastIndex - 10));
            assertThat(wal.entries(1, lastIndex + 1, Long.MAX_VALUE)).isEqualTo(TestEntries.range(1, lastIndex, 1));
        }
        try (SegmentedWal wal = SegmentedWal.open(dir, OPTIONS)) {
            assertThat(wal.lastIndex()).isEqualTo(lastIndex);
        }
    }

    private Path copy(String name) throws IOException {
        Path to = root.resolve(name);
        Files.createDirectories(to);
        for (Path p : segments(original)) {
            Files.copy(p, to.resolve(p.getFileName()));
        }
        return to;
    }

    static List<Path> segments(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".wal")).sorted().toList();
        }
    }

    static Path last(List<Path> paths) {
        return paths.get(paths.size() - 1);
    }

    static List<SegmentScanner.Record> records(Path segment) throws IOException {
        ByteBuffer content = ByteBuffer.wrap(Files.readAllBytes(segment));
        return SegmentScanner.scan(segment, content, true).records();
    }

    static SegmentScanner.Record lastRecord(Path segment) throws IOException {
        List<SegmentScanner.Record> recs = records(segment);
        return recs.get(recs.size() - 1);
    }

    static void flip(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x5a));
            b.rewind();
            ch.write(b, offset);
        }
    }

    static void zero(Path file, long from, long to) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate((int) (to - from)), from);
        }
    }
}

package io.raftkv.log;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * Standalone benchmark behind the choice of log mechanism (see LOG-DESIGN.md): the raw
 * fdatasync rate of the disk (4 KiB write + force(false) into a preallocated file), then
 * entries/s and fsyncs/s of {@link SegmentedWal} and of RocksDB synced WriteBatches in a column
 * family, at batch sizes 1, 10, 100 and 1000 entries with 256-byte values. One writer thread, as
 * the Raft driver. Run:
 *
 * <pre>
 * mvn -B -q -pl node/log test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=io.raftkv.log.LogBenchmark [-Dexec.args="DIR SECONDS_PER_CASE wal|rocksdb|all"]
 * </pre>
 *
 * A benchmark, not a test: it asserts nothing. The disk's fsync rate swings widely on a shared
 * virtual disk, so each case interleaves short slices of the log with slices of the raw loop and
 * reports both.
 */
public final class LogBenchmark {
    private static final int VALUE_BYTES = 256;
    private static final int[] BATCHES = {1, 10, 100, 1000};

    private LogBenchmark() {
    }

    /**
     * Arguments: [directory on the disk under test (default: a new temporary directory)]
     * [seconds of log writing per case (default 4)] [wal|rocksdb|all (default all)].
     */
    public static void main(String[] args) throws Exception {
        Path root = args.length > 0 ? Path.of(args[0]).toAbsolutePath() : Files.createTempDirectory("log-bench");
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 4;
        String which = args.length > 2 ? args[2] : "all";
        deleteRecursively(root);
        Files.createDirectories(root);
        System.out.printf(Locale.ROOT, "dir %s, %.1f s per case, %d cores, JVM %s%n", root, seconds,
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.version"));
        System.out.println("Each case interleaves 0.25 s slices of the log with slices of raw 4 KiB write+fdatasync,");
        System.out.println("so both see the same disk conditions; 'target' = 80% of raw rate x batch.");
        System.out.println();
        System.out.println("| log | batch | entries/s | fsyncs/s | MiB/s | raw fdatasync/s | % of raw x batch |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        try (RawDisk raw = new RawDisk(root.resolve("raw"))) {
            for (int batch : which.equals("rocksdb") ? new int[0] : BATCHES) {
                try (SegmentedWal wal = SegmentedWal.open(root.resolve("wal-" + batch))) {
                    Writer w = new Writer() {
                        long index = 1;

                        @Override
                        public long write(int size, byte[] value) throws Exception {
                            wal.persist(new HardState(1, 1, index - 1), batch(index, size, value), null);
                            index += size;
                            return 1;
                        }
                    };
                    report("SegmentedWal", batch, run(w, raw, batch, seconds));
                }
            }
            for (int batch : which.equals("wal") ? new int[0] : BATCHES) {
                try (Rocks rocks = new Rocks(root.resolve("rocks-" + batch))) {
                    report("RocksDB synced WriteBatch", batch, run(rocks, raw, batch, seconds));
                }
            }
        }
        deleteRecursively(root);
    }

    /** Something that durably writes a batch; returns the number of fsyncs it took (for RocksDB: writes). */
    private interface Writer {
        long write(int batchSize, byte[] value) throws Exception;
    }

    private record Result(long entries, long syncs, double seconds, long rawSyncs, double rawSeconds) {
    }

    private static Result run(Writer w, RawDisk raw, int batch, double seconds) throws Exception {
        byte[] value = new byte[VALUE_BYTES];
        long warmupEnd = System.nanoTime() + 1_000_000_000L;
        while (System.nanoTime() < warmupEnd) {
            w.write(batch, value);
        }
        raw.run(0.5);
        long entries = 0;
        long syncs = 0;
        long nanos = 0;
        long rawSyncs = 0;
        long rawNanos = 0;
        long slice = 250_000_000L;
        for (int round = 0; round < Math.max(1, (int) (seconds * 4)); round++) {
            long start = System.nanoTime();
            long end = start + slice;
            long now;
            while ((now = System.nanoTime()) < end) {
                syncs += w.write(batch, value);
                entries += batch;
            }
            nanos += now - start;
            long rawStart = System.nanoTime();
            rawSyncs += raw.run(slice / 1e9);
            rawNanos += System.nanoTime() - rawStart;
        }
        return new Result(entries, syncs, nanos / 1e9, rawSyncs, rawNanos / 1e9);
    }

    private static void report(String name, int batch, Result r) {
        double eps = r.entries() / r.seconds();
        double raw = r.rawSyncs() / r.rawSeconds();
        System.out.printf(Locale.ROOT, "| %s | %d | %.0f | %.0f | %.1f | %.0f | %.0f%% |%n", name, batch, eps,
                r.syncs() / r.seconds(), eps * VALUE_BYTES / (1 << 20), raw, 100 * eps / (raw * batch));
    }

    /** The disk's raw fdatasync rate: 4 KiB write + force(false), cycling through a preallocated file. */
    private static final class RawDisk implements AutoCloseable {
        private static final long SIZE = 64L << 20;
        private final FileChannel ch;
        private final ByteBuffer page = ByteBuffer.allocateDirect(4096);
        private long n;

        RawDisk(Path dir) throws IOException {
            Files.createDirectories(dir);
            ch = FileChannel.open(dir.resolve("raw"), StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
            for (long p = 0; p < SIZE; p += zeros.capacity()) {
                zeros.clear();
                ch.write(zeros, p);
            }
            ch.force(true);
            for (int i = 0; i < 4096; i++) {
                page.put((byte) (i * 7 + 1));
            }
        }

        /** Writes and syncs for {@code seconds}; returns the number of fdatasyncs. */
        long run(double seconds) throws IOException {
            long count = 0;
            long end = System.nanoTime() + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                page.clear();
                ch.write(page, (n * 4096) % SIZE);
                ch.force(false);
                n++;
                count++;
            }
            return count;
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    private static List<Entry> batch(long first, int count, byte[] value) {
        List<Entry> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(Entry.normal(1, first + i, value));
        }
        return out;
    }

    /** The alternative: entries as keys of a column family, one synced WriteBatch per Ready. */
    private static final class Rocks implements Writer, AutoCloseable {
        private final DBOptions options;
        private final List<ColumnFamilyHandle> handles = new ArrayList<>();
        private final RocksDB db;
        private final WriteOptions sync;
        private final byte[] value = new byte[VALUE_BYTES + 17];
        private long index = 1;

        Rocks(Path dir) throws IOException, RocksDBException {
            RocksDB.loadLibrary();
            Files.createDirectories(dir);
            sync = new WriteOptions().setSync(true);
            options = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
            List<ColumnFamilyDescriptor> cfs = List.of(
                    new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, new ColumnFamilyOptions()),
                    new ColumnFamilyDescriptor("raft_log".getBytes(), new ColumnFamilyOptions()));
            db = RocksDB.open(options, dir.toString(), cfs, handles);
        }

        @Override
        public long write(int batchSize, byte[] ignored) throws RocksDBException {
            writeRocks(db, handles.get(1), sync, index, batchSize, value);
            index += batchSize;
            return 1;
        }

        @Override
        public void close() {
            for (ColumnFamilyHandle h : handles) {
                h.close();
            }
            db.close();
            sync.close();
            options.close();
        }
    }

    private static void writeRocks(RocksDB db, ColumnFamilyHandle log, WriteOptions sync, long first, int count,
                                   byte[] value) throws RocksDBException {
        try (WriteBatch wb = new WriteBatch()) {
            for (int i = 0; i < count; i++) {
                wb.put(log, ByteBuffer.allocate(8).putLong(first + i).array(), value);
            }
            wb.put(log, "hardstate".getBytes(), ByteBuffer.allocate(24).putLong(1).putLong(1).putLong(first - 1).array());
            db.write(sync, wb);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (Files.exists(dir)) {
            SegmentedWalModelTest.deleteRecursively(dir);
        }
    }
}

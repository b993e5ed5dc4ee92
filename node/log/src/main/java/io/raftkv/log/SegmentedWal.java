package io.raftkv.log;

import io.raftkv.raft.ConfState;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.Snapshot;
import io.raftkv.raft.SnapshotMetadata;
import io.raftkv.raft.Storage;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The durable Raft log: a write-ahead log of preallocated, zero-filled segment files of
 * checksummed records, as in etcd's wal package. Implements {@link Storage}, so the Raft core
 * reads it directly.
 *
 * <p>Each {@link #persist} call appends exactly one record (hard state, snapshot, entries and any
 * pending {@link #compact}/{@link #createSnapshot} operations) and makes it durable with exactly
 * one {@code fdatasync} ({@link FileChannel#force force(false)}) before returning: the group
 * commit of one Raft {@code Ready}. Segments are preallocated by a background thread, so the
 * fdatasync never has to flush file-size metadata. Every segment starts with a header record
 * that checkpoints the state (hard state, snapshot, compaction point, last index), so segments
 * whose entries are all compacted can be deleted without losing that state.
 *
 * <p>Reads are served from an in-memory index (term and file position of every entry) and a
 * direct-mapped cache of recently written entries; older entries are read from their segment
 * with one positional read and verified against their own checksum.
 *
 * <p>{@link #startPersist} writes the same record but leaves its fdatasync running on a helper
 * thread, so that the caller can work (apply entries that are durable already) while the disk
 * syncs; {@link #awaitPersist} waits for it. Until then the record is written but not durable:
 * {@link #durableLastIndex()} tells what is.
 *
 * <p>Not thread-safe: one thread (the Raft driver) calls every method, reads included.
 * {@code persist}, {@link #sync} and {@link #close} block on disk I/O; after an I/O error while
 * writing the log refuses further writes, because the state of the file after a failed fsync is
 * unknown.
 */
public final class SegmentedWal implements Storage, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SegmentedWal.class.getName());
    private static final Pattern SEGMENT_NAME = Pattern.compile("([0-9a-f]{16})\\.wal");
    private static final int ZERO_CHUNK_BYTES = 1 << 20;

    /**
     * Tuning of a {@link SegmentedWal}.
     *
     * @param segmentSizeBytes size each segment is preallocated to; a new segment is started when a
     *                         record would not fit (a single larger record still goes in one segment)
     * @param cacheEntries     how many recently written entries are kept in memory (0: none)
     */
    public record Options(long segmentSizeBytes, int cacheEntries) {
        /** Validates the values. */
        public Options {
            if (segmentSizeBytes < 4096 || segmentSizeBytes > (1L << 30) || segmentSizeBytes % 8 != 0) {
                throw new IllegalArgumentException("segmentSizeBytes must be a multiple of 8 in [4 KiB, 1 GiB]: "
                        + segmentSizeBytes);
            }
            if (cacheEntries < 0 || cacheEntries > (1 << 24)) {
                throw new IllegalArgumentException("cacheEntries must be in [0, 2^24]: " + cacheEntries);
            }
        }

        /**
         * 64 MiB segments (as etcd) and a 512-entry cache: about 100 ms of entries at 5000 writes/s,
         * enough for replication and apply, which read entries right after they are written. A
         * larger cache kept entries alive across young collections until they were promoted and
         * died in the old generation (4096 entries: a full collection every ~50 s under load).
         */
        public static Options defaults() {
            return new Options(64L << 20, 512);
        }

        /** A copy with another segment size. */
        public Options withSegmentSizeBytes(long bytes) {
            return new Options(bytes, cacheEntries);
        }

        /** A copy with another cache size. */
        public Options withCacheEntries(int entries) {
            return new Options(segmentSizeBytes, entries);
        }
    }

    /** An open segment file; {@code headerLastIndex} is the last index its header checkpointed. */
    private record Segment(long seq, Path path, FileChannel channel, long headerLastIndex) {
    }

    /** An operation recorded in memory and made durable by the next persist or sync. */
    private sealed interface PendingOp {
        record Compact(long index, long term) implements PendingOp {
        }

        record CreateSnapshot(Snapshot snapshot) implements PendingOp {
        }
    }

    private final Path dir;
    private final Options options;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final TreeMap<Long, Segment> segments = new TreeMap<>();
    private final LogState state = new LogState();
    private final List<PendingOp> pending = new ArrayList<>();
    private final WalFormat.Encoder batch = new WalFormat.Encoder(64 * 1024);
    private final WalFormat.Encoder header = new WalFormat.Encoder(4 * 1024);
    private final Entry[] cache;
    private final ExecutorService background;
    /** Runs the fdatasync of a {@link #startPersist}; created on first use. */
    private ExecutorService syncer;
    /** The fdatasync of the last startPersist while it runs; completes with its end (nanoTime). */
    private Future<Long> syncInFlight;
    /** The log's last index before the write whose fdatasync is {@link #syncInFlight}. */
    private long durableLastIndex;
    private Segment tail;
    private long tailDataStart;
    private long writePos;
    private Future<FileChannel> nextSegment;
    private long syncCount;
    private boolean reclaimNeeded;
    private boolean failed;
    private boolean closed;

    private SegmentedWal(Path dir, Options options, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.options = options;
        this.lockChannel = lockChannel;
        this.lock = lock;
        int cacheSize = options.cacheEntries() == 0 ? 0 : Integer.highestOneBit(options.cacheEntries() * 2 - 1);
        this.cache = new Entry[cacheSize];
        this.background = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "raftkv-wal-" + dir.getFileName());
            t.setDaemon(true);
            return t;
        });
    }

    /** Opens (or creates) the log in {@code dir} with {@link Options#defaults()}. */
    public static SegmentedWal open(Path dir) throws IOException {
        return open(dir, Options.defaults());
    }

    /**
     * Opens the log in {@code dir}, creating it if empty, and recovers its state. Reads only the
     * segments that still hold live entries (older ones are deleted unread) and verifies every
     * record in them. A torn last write is truncated with a warning; any other damage fails.
     *
     * @throws LogCorruptionException if the log is damaged anywhere but in its last write
     * @throws IOException            on I/O errors, or if another process has the log open
     */
    public static SegmentedWal open(Path dir, Options options) throws IOException {
        Files.createDirectories(dir);
        FileChannel lockChannel = FileChannel.open(dir.resolve("LOCK"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lockChannel.close();
            throw new IOException("log directory " + dir + " is in use by this process", e);
        } catch (IOException | RuntimeException e) {
            lockChannel.close();
            throw e;
        }
        if (lock == null) {
            lockChannel.close();
            throw new IOException("log directory " + dir + " is in use by another process");
        }
        SegmentedWal wal = new SegmentedWal(dir, options, lockChannel, lock);
        try {
            wal.recover();
        } catch (IOException | RuntimeException e) {
            wal.closeQuietly();
            throw e;
        }
        return wal;
    }

    // ---------------------------------------------------------------- recovery

    private record Header(long seq, long lastIndex, long compactIndex, long compactTerm, HardState hardState,
                          Snapshot snapshot) {
    }

    private record Scanned(long seq, Path path, SegmentScanner.Result result, Header header) {
    }

    private void recover() throws IOException {
        TreeSet<Long> onDisk = listSegments();
        Scanned newest = null;
        long highest = onDisk.isEmpty() ? 0 : onDisk.last();
        List<Scanned> empty = new ArrayList<>();
        while (!onDisk.isEmpty()) {
            long seq = onDisk.last();
            Scanned s = scan(seq, true);
            if (!s.result().records().isEmpty()) {
                newest = s;
                break;
            }
            empty.add(s);
            onDisk.remove(seq);
        }
        if (newest == null && highest > 1) {
            // Only the very first segment can be empty with nothing before it.
            throw new LogCorruptionException(segmentPath(highest), 0,
                    "no segment holds a valid record, yet segment " + highest + " exists");
        }
        for (Scanned s : empty) {
            // Preallocated and unused, or its first write (header and first batch) was torn.
            if (s.result().torn()) {
                LOG.log(System.Logger.Level.WARNING, "discarding segment {0}: its first write was torn", s.path());
            }
            Files.delete(s.path());
        }
        if (newest == null) {
            createFirstSegment();
            return;
        }

        // The compaction point at the end of the log decides which older segments still matter.
        LogState scratch = new LogState();
        replaySegment(scratch, newest, true);
        long finalCompactIndex = scratch.compactIndex;

        // Segment s holds live entries only if every later header's last index exceeds the final
        // compaction point: an entry written in s and still live is <= each later checkpoint.
        List<Scanned> needed = new ArrayList<>();
        needed.add(newest);
        long minLaterLastIndex = newest.header().lastIndex();
        long seq = newest.seq() - 1;
        while (minLaterLastIndex > finalCompactIndex) {
            if (!onDisk.contains(seq)) {
                throw new LogCorruptionException(segmentPath(seq), -1, "segment missing: segment "
                        + (seq + 1) + " expects entries up to " + minLaterLastIndex
                        + " that are not compacted (compaction point " + finalCompactIndex + ")");
            }
            Scanned s = scan(seq, false);
            needed.add(0, s);
            minLaterLastIndex = Math.min(minLaterLastIndex, s.header().lastIndex());
            seq--;
        }
        for (long old : onDisk.headSet(needed.get(0).seq())) {
            Files.deleteIfExists(segmentPath(old));
        }

        boolean first = true;
        for (Scanned s : needed) {
            replaySegment(state, s, first);
            first = false;
        }
        if (state.unknownUpTo > state.compactIndex) {
            throw new LogCorruptionException(needed.get(0).path(), 0, "entries " + (state.compactIndex + 1)
                    + ".." + state.unknownUpTo + " are live but their segments were reclaimed");
        }

        for (Scanned s : needed) {
            boolean isTail = s == newest;
            FileChannel ch = isTail
                    ? FileChannel.open(s.path(), StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(s.path(), StandardOpenOption.READ);
            Segment seg = new Segment(s.seq(), s.path(), ch, s.header().lastIndex());
            segments.put(s.seq(), seg);
        }
        tail = segments.lastEntry().getValue();
        SegmentScanner.Result r = newest.result();
        List<SegmentScanner.Record> recs = r.records();
        tailDataStart = recs.size() > 1 ? recs.get(1).offset() : r.end();
        // Records start 8-aligned (the corruption scan relies on it), even after a file was cut short.
        writePos = WalFormat.align8(r.end());
        if (r.torn()) {
            LOG.log(System.Logger.Level.WARNING, "torn write at the end of {0}: truncating {1} bytes at offset {2}",
                    newest.path(), r.dirtyEnd() - r.end(), r.end());
            zeroFill(tail.channel(), r.end(), r.dirtyEnd(), false);
            tail.channel().force(false);
        }
        reclaimNeeded = true;
        reclaim();
    }

    private TreeSet<Long> listSegments() throws IOException {
        TreeSet<Long> seqs = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Matcher m = SEGMENT_NAME.matcher(p.getFileName().toString());
                if (m.matches()) {
                    seqs.add(Long.parseUnsignedLong(m.group(1), 16));
                }
            }
        }
        return seqs;
    }

    private Path segmentPath(long seq) {
        return dir.resolve(String.format("%016x.wal", seq));
    }

    private Scanned scan(long seq, boolean newest) throws IOException {
        Path path = segmentPath(seq);
        ByteBuffer content;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                throw new LogCorruptionException(path, Integer.MAX_VALUE, "segment larger than 2 GiB");
            }
            MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
            content = mapped;
        }
        SegmentScanner.Result result = SegmentScanner.scan(path, content, newest);
        if (result.records().isEmpty()) {
            if (newest) {
                return new Scanned(seq, path, result, null);
            }
            throw new LogCorruptionException(path, 0, "segment has no header record");
        }
        SegmentScanner.Record first = result.records().get(0);
        if (first.type() != WalFormat.RECORD_SEGMENT_HEADER) {
            throw new LogCorruptionException(path, 0, "segment does not start with a header record");
        }
        Header h;
        try {
            ByteBuffer b = first.payload().duplicate();
            h = new Header(b.getLong(), b.getLong(), b.getLong(), b.getLong(), WalFormat.getHardState(b),
                    WalFormat.getSnapshot(b));
        } catch (RuntimeException e) {
            throw new LogCorruptionException(path, 0, "undecodable segment header: " + e);
        }
        if (h.seq() != seq) {
            throw new LogCorruptionException(path, 0, "segment header names sequence " + h.seq());
        }
        return new Scanned(seq, path, result, h);
    }

    /**
     * Applies a segment's records to {@code st}. The first segment replayed starts from its header
     * checkpoint; later headers must agree with the replayed state.
     */
    private static void replaySegment(LogState st, Scanned s, boolean first) throws LogCorruptionException {
        Header h = s.header();
        if (first) {
            st.resetTo(h.hardState(), h.snapshot(), h.compactIndex(), h.compactTerm(), h.lastIndex());
        } else if (h.lastIndex() != st.lastIndex() || h.compactIndex() < st.compactIndex
                || h.hardState().term() != st.hardState.term() || h.hardState().vote() != st.hardState.vote()
                || h.hardState().commit() < st.hardState.commit()) {
            // A header may already include compaction that the batch after it records, and a
            // commit index newer than the last written record (commit-only changes are not
            // written on their own, see persist's mustSync).
            throw new LogCorruptionException(s.path(), 0, "segment header (last index " + h.lastIndex()
                    + ", compact index " + h.compactIndex() + ", " + h.hardState() + ") disagrees with the previous"
                    + " segments (last index " + st.lastIndex() + ", compact index " + st.compactIndex + ", "
                    + st.hardState + ")");
        } else {
            st.hardState = h.hardState();
        }
        List<SegmentScanner.Record> recs = s.result().records();
        for (int i = 1; i < recs.size(); i++) {
            SegmentScanner.Record r = recs.get(i);
            if (r.type() != WalFormat.RECORD_BATCH) {
                throw new LogCorruptionException(s.path(), r.offset(), "unexpected record type " + r.type());
            }
            try {
                replayBatch(st, r.payload().duplicate(), s.seq(), r.offset() + WalFormat.HEADER_BYTES);
            } catch (IllegalStateException | IllegalArgumentException | BufferUnderflowException e) {
                throw new LogCorruptionException(s.path(), r.offset(), "undecodable batch: " + e);
            }
        }
    }

    private static void replayBatch(LogState st, ByteBuffer b, long seq, long payloadOffset) {
        while (b.hasRemaining()) {
            byte op = b.get();
            switch (op) {
                case WalFormat.OP_HARD_STATE -> st.hardState = WalFormat.getHardState(b);
                case WalFormat.OP_INSTALL_SNAPSHOT -> st.installSnapshot(WalFormat.getSnapshot(b));
                case WalFormat.OP_CREATE_SNAPSHOT -> st.createSnapshot(WalFormat.getSnapshot(b));
                case WalFormat.OP_COMPACT -> st.compact(b.getLong(), b.getLong());
                case WalFormat.OP_ENTRIES -> {
                    int n = b.getInt();
                    long start = -2;
                    for (int k = 0; k < n; k++) {
                        int at = b.position();
                        int bodyLength = b.getInt();
                        b.getInt();
                        long term = b.getLong();
                        long index = b.getLong();
                        b.position(at + WalFormat.ENTRY_HEADER_BYTES + bodyLength);
                        if (k == 0) {
                            start = st.effectiveStart(index);
                            if (start > st.lastIndex() + 1) {
                                throw new IllegalStateException("entry " + index + " leaves a gap after "
                                        + st.lastIndex());
                            }
                        }
                        if (index >= start) {
                            if (index == start) {
                                st.truncateFrom(start);
                            }
                            st.add(term, seq, payloadOffset + at, WalFormat.ENTRY_HEADER_BYTES + bodyLength);
                        }
                    }
                }
                default -> throw new IllegalStateException("unknown operation " + op);
            }
        }
    }

    private void createFirstSegment() throws IOException {
        FileChannel ch = prepareSegment(1);
        Segment seg = new Segment(1, segmentPath(1), ch, state.lastIndex());
        encodeHeader(seg.seq());
        ByteBuffer h = header.flip();
        int length = h.remaining();
        writeFully(ch, 0, h);
        ch.force(false);
        segments.put(1L, seg);
        tail = seg;
        tailDataStart = length;
        writePos = length;
    }

    // ---------------------------------------------------------------- writing

    /**
     * Makes a Ready's output durable: installs {@code snapshot} (if newer than the current one;
     * it replaces the whole log, as {@link io.raftkv.raft.MemoryStorage#applySnapshot}), appends
     * {@code entries} (truncating any conflicting suffix first), records {@code hardState}, and
     * makes all of it, and every pending {@link #compact}/{@link #createSnapshot}, durable with
     * one fdatasync before returning. Only then may the caller send the Ready's messages.
     *
     * @param hardState the new hard state, or null if unchanged
     * @param entries   entries with consecutive indices; may be empty
     * @param snapshot  a snapshot received from the leader, or null
     * @throws IllegalArgumentException if the entries' indices are not consecutive
     * @throws IllegalStateException    if the entries would leave a gap after the last index, or
     *                                  the log is closed or failed an earlier write
     * @throws IOException              on an I/O error; the log then refuses further writes
     */
    public void persist(HardState hardState, List<Entry> entries, Snapshot snapshot) throws IOException {
        persist(hardState, entries, snapshot, true);
    }

    /**
     * Like {@link #persist(HardState, List, Snapshot)}, but when {@code mustSync} is false and
     * there is nothing else to write (no entries, no snapshot, no pending compaction or local
     * snapshot), a hard state that only moved the commit index is kept in memory instead of
     * written and fsynced; the next record or segment header that is written carries it. This is
     * Raft's MustSync rule (etcd: raft.MustSync): the commit index is not part of the state that
     * must survive a crash, because a restarted member learns it again from the leader, and the
     * state machine applies each index at most once. Without it every commit costs every member a
     * second fsync.
     *
     * @param mustSync the Ready's {@code mustSync}: false only when just the commit index changed
     */
    public void persist(HardState hardState, List<Entry> entries, Snapshot snapshot, boolean mustSync)
            throws IOException {
        persist(hardState, entries, snapshot, mustSync, false);
    }

    /**
     * Like {@link #persist(HardState, List, Snapshot, boolean)}, but returns once the record is
     * written: its fdatasync runs on a helper thread, overlapping whatever the caller does next,
     * and {@link #awaitPersist} waits for it. Nothing of this record may be treated as durable
     * (messages about it sent, its entries applied) before awaitPersist has returned; segments it
     * compacts away are deleted only then. Every other writing method waits for it first.
     */
    public void startPersist(HardState hardState, List<Entry> entries, Snapshot snapshot, boolean mustSync)
            throws IOException {
        persist(hardState, entries, snapshot, mustSync, true);
    }

    /**
     * Waits for the fdatasync of the last {@link #startPersist}, if one is running.
     *
     * @return when it finished ({@link System#nanoTime}), or -1 if none was running
     * @throws IOException if it failed; the log then refuses further writes
     */
    public long awaitPersist() throws IOException {
        Future<Long> f = syncInFlight;
        if (f == null) {
            return -1;
        }
        syncInFlight = null;
        long done;
        try {
            done = f.get();
        } catch (InterruptedException e) {
            // the fdatasync goes on, but whether it succeeds is unknown
            failed = true;
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the log's fdatasync");
        } catch (ExecutionException e) {
            failed = true;
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("fdatasync of the log failed", e.getCause());
        }
        reclaim();
        return done;
    }

    /**
     * The last index the log holds durably: {@link #lastIndex()} except while the fdatasync of a
     * {@link #startPersist} that wrote entries is still running (until {@link #awaitPersist}).
     */
    public long durableLastIndex() {
        return syncInFlight == null ? state.lastIndex() : durableLastIndex;
    }

    private void persist(HardState hardState, List<Entry> entries, Snapshot snapshot, boolean mustSync,
                         boolean deferSync) throws IOException {
        awaitPersist();
        checkWritable();
        if (!mustSync && pending.isEmpty() && (entries == null || entries.isEmpty()) && snapshot == null) {
            if (hardState != null) {
                if (hardState.term() != state.hardState.term() || hardState.vote() != state.hardState.vote()) {
                    throw new IllegalArgumentException("a term or vote change must be synced: " + hardState);
                }
                state.hardState = hardState;
            }
            return;
        }
        List<Entry> ents = entries == null ? List.of() : entries;
        for (int k = 1; k < ents.size(); k++) {
            if (ents.get(k).index() != ents.get(0).index() + k) {
                throw new IllegalArgumentException("entries are not consecutive: " + ents.get(k - 1) + ", "
                        + ents.get(k));
            }
        }
        boolean install = snapshot != null && state.wouldInstall(snapshot);
        long compactAfter = install ? snapshot.metadata().index() : state.compactIndex;
        long lastAfter = install ? compactAfter : state.lastIndex();
        if (!ents.isEmpty() && ents.get(ents.size() - 1).index() > compactAfter
                && Math.max(ents.get(0).index(), compactAfter + 1) > lastAfter + 1) {
            throw new IllegalStateException("missing log entry: last index " + lastAfter + ", append at "
                    + ents.get(0).index());
        }
        if (pending.isEmpty() && hardState == null && ents.isEmpty() && !install) {
            return;
        }

        batch.clear();
        batch.beginRecord(WalFormat.RECORD_BATCH);
        encodePending();
        if (install) {
            batch.putByte(WalFormat.OP_INSTALL_SNAPSHOT);
            batch.putSnapshot(snapshot);
        }
        int[] entryOffsets = new int[ents.size()];
        if (!ents.isEmpty()) {
            batch.putByte(WalFormat.OP_ENTRIES);
            batch.putInt(ents.size());
            for (int k = 0; k < ents.size(); k++) {
                entryOffsets[k] = batch.putEntry(ents.get(k));
            }
        }
        if (hardState != null) {
            batch.putByte(WalFormat.OP_HARD_STATE);
            batch.putHardState(hardState);
        }
        batch.endRecord();

        durableLastIndex = state.lastIndex();
        long base = write(deferSync);

        pending.clear();
        if (install) {
            state.installSnapshot(snapshot);
            reclaimNeeded = true;
            Arrays.fill(cache, null);
        }
        if (!ents.isEmpty()) {
            long start = state.effectiveStart(ents.get(0).index());
            for (int k = 0; k < ents.size(); k++) {
                Entry e = ents.get(k);
                if (e.index() < start) {
                    continue;
                }
                if (e.index() == start) {
                    state.truncateFrom(start);
                }
                int length = WalFormat.ENTRY_HEADER_BYTES + WalFormat.ENTRY_FIXED_BYTES + e.data().length;
                state.add(e.term(), tail.seq(), base + entryOffsets[k], length);
                if (cache.length > 0) {
                    cache[(int) (e.index() & (cache.length - 1))] = e;
                }
            }
        }
        if (hardState != null) {
            state.hardState = hardState;
        }
        if (syncInFlight == null) {
            reclaim();
        }
    }

    /**
     * Makes pending {@link #compact}/{@link #createSnapshot} operations durable now (one
     * fdatasync), instead of with the next {@link #persist}. Does nothing if none are pending.
     *
     * @throws IOException on an I/O error; the log then refuses further writes
     */
    public void sync() throws IOException {
        awaitPersist();
        checkWritable();
        if (pending.isEmpty()) {
            return;
        }
        batch.clear();
        batch.beginRecord(WalFormat.RECORD_BATCH);
        encodePending();
        batch.endRecord();
        write(false);
        pending.clear();
        reclaim();
    }

    /**
     * Records a snapshot the application took at {@code index} (which must be applied), as
     * {@link io.raftkv.raft.MemoryStorage#createSnapshot}: it does not discard entries. Visible to
     * {@link #snapshot()} at once; durable with the next {@link #persist} or {@link #sync}.
     * The snapshot data is stored in the log and copied into each new segment's header, so it
     * should be small (for a large state machine, a reference to a checkpoint it keeps itself).
     *
     * @return the current snapshot (the new one, or the existing one if it is not older)
     * @throws IllegalArgumentException if {@code index > lastIndex()}
     */
    public Snapshot createSnapshot(long index, ConfState confState, byte[] data) {
        checkWritable();
        if (index <= state.snapshot.metadata().index()) {
            return state.snapshot;
        }
        if (index > state.lastIndex()) {
            throw new IllegalArgumentException("snapshot index " + index + " beyond last index " + state.lastIndex());
        }
        Snapshot snap = new Snapshot(new SnapshotMetadata(index, term(index), confState), data);
        state.createSnapshot(snap);
        pending.add(new PendingOp.CreateSnapshot(snap));
        return snap;
    }

    /**
     * Discards entries up to and including {@code index}. Visible at once; durable with the next
     * {@link #persist} or {@link #sync}, after which segments holding only discarded entries are
     * deleted in the background. A crash before then leaves the entries in place, which Raft
     * tolerates. Only entries covered by the snapshot may be discarded, so that committed data
     * always survives in the snapshot or the log.
     *
     * @throws IllegalArgumentException if {@code index} is beyond the last index or the snapshot
     */
    public void compact(long index) {
        checkWritable();
        if (index <= state.compactIndex) {
            return;
        }
        if (index > state.lastIndex()) {
            throw new IllegalArgumentException("compact " + index + " beyond last index " + state.lastIndex());
        }
        if (index > state.snapshot.metadata().index()) {
            throw new IllegalArgumentException("compact " + index + " beyond snapshot index "
                    + state.snapshot.metadata().index() + ": the entries would exist nowhere");
        }
        long term = state.term(index);
        state.compact(index, term);
        reclaimNeeded = true;
        pending.add(new PendingOp.Compact(index, term));
    }

    /** Number of segments the log still reads from (deleted ones leave it at once); for tests. */
    int liveSegments() {
        return segments.size();
    }

    /** Number of fdatasync calls made on the write path since open; for tests and benchmarks. */
    public long syncCount() {
        return syncCount;
    }

    private void encodePending() {
        for (PendingOp op : pending) {
            if (op instanceof PendingOp.Compact c) {
                batch.putByte(WalFormat.OP_COMPACT);
                batch.putLong(c.index());
                batch.putLong(c.term());
            } else if (op instanceof PendingOp.CreateSnapshot cs) {
                batch.putByte(WalFormat.OP_CREATE_SNAPSHOT);
                batch.putSnapshot(cs.snapshot());
            }
        }
    }

    private void encodeHeader(long seq) {
        header.clear();
        header.beginRecord(WalFormat.RECORD_SEGMENT_HEADER);
        header.putLong(seq);
        header.putLong(state.lastIndex());
        header.putLong(state.compactIndex);
        header.putLong(state.compactTerm);
        header.putHardState(state.hardState);
        header.putSnapshot(state.snapshot);
        header.endRecord();
    }

    /**
     * Writes the encoded batch (starting a new segment first if it does not fit) and fdatasyncs
     * once: here, or with {@code deferSync} on the helper thread (a new segment is still synced
     * here). Returns the file offset at which the batch starts.
     */
    private long write(boolean deferSync) throws IOException {
        ByteBuffer record = batch.flip();
        try {
            if (writePos > tailDataStart && writePos + record.remaining() > options.segmentSizeBytes()) {
                long seq = tail.seq() + 1;
                FileChannel ch = takeNextSegment(seq);
                encodeHeader(seq);
                ByteBuffer h = header.flip();
                int headerLength = h.remaining();
                Segment seg = new Segment(seq, segmentPath(seq), ch, state.lastIndex());
                writeFully(ch, 0, h);
                writeFully(ch, headerLength, record);
                ch.force(false);
                syncCount++;
                segments.put(seq, seg);
                tail = seg;
                tailDataStart = headerLength;
                writePos = headerLength + (long) batch.position();
                nextSegment = background.submit(() -> prepareSegment(seq + 1));
                reclaimNeeded = true;
                return headerLength;
            }
            long base = writePos;
            FileChannel ch = tail.channel();
            writeFully(ch, base, record);
            if (deferSync) {
                if (syncer == null) {
                    syncer = Executors.newSingleThreadExecutor(r -> {
                        Thread t = new Thread(r, "raftkv-wal-sync-" + dir.getFileName());
                        t.setDaemon(true);
                        return t;
                    });
                }
                syncInFlight = syncer.submit(() -> {
                    ch.force(false);
                    return System.nanoTime();
                });
            } else {
                ch.force(false);
            }
            syncCount++;
            writePos = base + batch.position();
            if (nextSegment == null) {
                long seq = tail.seq() + 1;
                nextSegment = background.submit(() -> prepareSegment(seq));
            }
            return base;
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw e;
        }
    }

    private FileChannel takeNextSegment(long seq) throws IOException {
        if (nextSegment == null) {
            nextSegment = background.submit(() -> prepareSegment(seq));
        }
        try {
            return nextSegment.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for segment " + seq, e);
        } catch (ExecutionException e) {
            throw new IOException("could not prepare segment " + seq, e.getCause());
        } finally {
            nextSegment = null;
        }
    }

    /** Creates a segment file filled with zeros and makes it and its directory entry durable. */
    private FileChannel prepareSegment(long seq) throws IOException {
        Path path = segmentPath(seq);
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            // One fdatasync per MiB of zeros: a whole segment left dirty for one final fsync
            // would make the log's own fdatasyncs on this disk (and the other members', where
            // they share it) wait behind tens of MiB of writeback.
            zeroFill(ch, 0, options.segmentSizeBytes(), true);
            ch.force(true);
            syncDirectory();
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return ch;
    }

    /** Writes zeros over [from, to); with {@code syncEachChunk}, fdatasyncs after each MiB. */
    private static void zeroFill(FileChannel ch, long from, long to, boolean syncEachChunk) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(ZERO_CHUNK_BYTES, Math.max(8, to - from)));
        long pos = from;
        while (pos < to) {
            zeros.clear();
            zeros.limit((int) Math.min(zeros.capacity(), to - pos));
            pos += writeFully(ch, pos, zeros);
            if (syncEachChunk) {
                ch.force(false);
            }
        }
    }

    private static int writeFully(FileChannel ch, long pos, ByteBuffer b) throws IOException {
        int n = b.remaining();
        long p = pos;
        while (b.hasRemaining()) {
            p += ch.write(b, p);
        }
        return n;
    }

    private void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /**
     * Deletes segments whose entries are all compacted (durably: called after a write). Uses the
     * same rule as {@link #recover}, so a reopen never misses a deleted segment.
     */
    private void reclaim() {
        if (!reclaimNeeded) {
            return;
        }
        reclaimNeeded = false;
        long minLaterLastIndex = Long.MAX_VALUE;
        List<Segment> doomed = new ArrayList<>();
        for (Map.Entry<Long, Segment> e : segments.descendingMap().entrySet()) {
            Segment s = e.getValue();
            if (s != tail && minLaterLastIndex <= state.compactIndex) {
                doomed.add(s);
            }
            minLaterLastIndex = Math.min(minLaterLastIndex, s.headerLastIndex());
        }
        for (Segment s : doomed) {
            segments.remove(s.seq());
            background.submit(() -> {
                s.channel().close();
                Files.deleteIfExists(s.path());
                return null;
            });
        }
    }

    private void checkWritable() {
        if (closed) {
            throw new IllegalStateException("log is closed");
        }
        if (failed) {
            throw new IllegalStateException("log failed an earlier write and refuses further writes");
        }
    }

    // ---------------------------------------------------------------- Storage

    /** {@inheritDoc} The hard state and the configuration of the latest snapshot. */
    @Override
    public InitialState initialState() {
        return new InitialState(state.hardState, state.snapshot.metadata().confState());
    }

    /** {@inheritDoc} Reads entries not in the cache from disk and verifies their checksums. */
    @Override
    public List<Entry> entries(long lo, long hi, long maxSizeBytes) {
        if (lo <= state.compactIndex) {
            throw new CompactedException(lo, state.compactIndex + 1);
        }
        if (hi > state.lastIndex() + 1) {
            throw new UnavailableException(hi, state.lastIndex());
        }
        List<Entry> out = new ArrayList<>();
        long size = 0;
        for (long i = lo; i < hi; i++) {
            Entry e = entry(i);
            size += e.sizeBytes();
            if (!out.isEmpty() && size > maxSizeBytes) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    private Entry entry(long index) {
        long term = state.term(index);
        if (cache.length > 0) {
            Entry e = cache[(int) (index & (cache.length - 1))];
            if (e != null && e.index() == index && e.term() == term) {
                return e;
            }
        }
        Segment seg = segments.get(state.segment(index));
        long offset = state.offset(index);
        ByteBuffer b = ByteBuffer.allocate(state.length(index));
        try {
            while (b.hasRemaining()) {
                if (seg.channel().read(b, offset + b.position()) < 0) {
                    throw new LogCorruptionException(seg.path(), offset, "entry " + index + " is cut short");
                }
            }
            b.flip();
            Entry e = WalFormat.getEntry(b);
            if (e == null || e.index() != index || e.term() != term) {
                throw new LogCorruptionException(seg.path(), offset, "entry " + index + " fails its checksum");
            }
            return e;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@inheritDoc} Answered from memory. */
    @Override
    public long term(long index) {
        if (index < state.compactIndex) {
            throw new CompactedException(index, state.compactIndex + 1);
        }
        if (index > state.lastIndex()) {
            throw new UnavailableException(index, state.lastIndex());
        }
        return state.term(index);
    }

    /** {@inheritDoc} Answered from memory. */
    @Override
    public long firstIndex() {
        return state.compactIndex + 1;
    }

    /** {@inheritDoc} Answered from memory. */
    @Override
    public long lastIndex() {
        return state.lastIndex();
    }

    /** {@inheritDoc} The latest installed or created snapshot; never temporarily unavailable. */
    @Override
    public Snapshot snapshot() {
        return state.snapshot;
    }

    /**
     * Makes pending operations durable, waits for background work, and closes the files.
     * Idempotent. A prepared but unused segment is deleted.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            if (!failed) {
                sync();
            }
        } finally {
            closeQuietly();
        }
    }

    private void closeQuietly() {
        closed = true;
        Future<FileChannel> next = nextSegment;
        nextSegment = null;
        background.shutdown();
        if (syncer != null) {
            syncer.shutdown();
        }
        try {
            background.awaitTermination(1, TimeUnit.MINUTES);
            if (syncer != null) {
                syncer.awaitTermination(1, TimeUnit.MINUTES);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (next != null && next.isDone()) {
            try {
                next.get().close();
                long seq = tail == null ? 1 : tail.seq() + 1;
                Files.deleteIfExists(segmentPath(seq));
            } catch (IOException | ExecutionException | InterruptedException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "could not delete unused segment", e);
            }
        }
        for (Segment s : segments.values()) {
            try {
                s.channel().close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "could not close " + s.path(), e);
            }
        }
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not release lock of " + dir, e);
        }
    }
}

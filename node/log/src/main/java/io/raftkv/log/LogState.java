package io.raftkv.log;

import io.raftkv.raft.HardState;
import io.raftkv.raft.Snapshot;
import java.util.Arrays;

/**
 * The log's state as a deterministic state machine over the operations a batch record holds, so
 * that the live log and replay on open share one definition (and cannot disagree). Mirrors
 * {@link io.raftkv.raft.MemoryStorage}: installing a snapshot replaces everything, compaction
 * drops a prefix, appending truncates a conflicting suffix.
 *
 * <p>Entries {@code compactIndex+1 .. lastIndex()} exist. Replay may start in the middle of the
 * log (at the first segment still needed); entries before that segment are then "unknown"
 * ({@code compactIndex < i <= unknownUpTo}): their records were reclaimed because they are
 * compacted by the end of replay, which {@link SegmentedWal#open} checks. The live log always has
 * {@code unknownUpTo == compactIndex}.
 *
 * <p>For each known entry the index keeps its term, the segment sequence number and byte offset
 * of its sub-record, and the sub-record's length. Not thread-safe.
 */
final class LogState {
    HardState hardState = HardState.EMPTY;
    Snapshot snapshot = Snapshot.EMPTY;
    long compactIndex;
    long compactTerm;
    long unknownUpTo;

    private long[] terms = new long[64];
    private long[] segments = new long[64];
    private long[] offsets = new long[64];
    private int[] lengths = new int[64];
    private int head;
    private int size;

    long lastIndex() {
        return unknownUpTo + size;
    }

    /** Resets to a segment header's checkpoint; entries up to {@code lastIndex} are unknown. */
    void resetTo(HardState hs, Snapshot snap, long compactIndex, long compactTerm, long lastIndex) {
        this.hardState = hs;
        this.snapshot = snap;
        this.compactIndex = compactIndex;
        this.compactTerm = compactTerm;
        this.unknownUpTo = lastIndex;
        head = 0;
        size = 0;
    }

    boolean isKnown(long index) {
        return index > unknownUpTo && index <= lastIndex();
    }

    /** Term of a known entry, or of the compaction point. */
    long term(long index) {
        if (index == compactIndex) {
            return compactTerm;
        }
        return terms[slot(index)];
    }

    long segment(long index) {
        return segments[slot(index)];
    }

    long offset(long index) {
        return offsets[slot(index)];
    }

    int length(long index) {
        return lengths[slot(index)];
    }

    private int slot(long index) {
        return head + (int) (index - unknownUpTo - 1);
    }

    /** MemoryStorage.applySnapshot: true if installed, false if older than the current one. */
    boolean wouldInstall(Snapshot snap) {
        return !(snap.metadata().index() <= snapshot.metadata().index() && !snapshot.isEmpty());
    }

    boolean installSnapshot(Snapshot snap) {
        if (!wouldInstall(snap)) {
            return false;
        }
        snapshot = snap;
        compactIndex = snap.metadata().index();
        compactTerm = snap.metadata().term();
        unknownUpTo = compactIndex;
        head = 0;
        size = 0;
        return true;
    }

    /** Records a snapshot taken by the application without discarding entries. */
    boolean createSnapshot(Snapshot snap) {
        if (snap.metadata().index() <= snapshot.metadata().index()) {
            return false;
        }
        snapshot = snap;
        return true;
    }

    /** Discards entries up to {@code index}, whose term is {@code term}. */
    void compact(long index, long term) {
        if (index <= compactIndex) {
            return;
        }
        if (index > unknownUpTo) {
            int drop = (int) Math.min(size, index - unknownUpTo);
            head += drop;
            size -= drop;
            unknownUpTo = index;
            if (size == 0) {
                head = 0;
            }
        }
        compactIndex = index;
        compactTerm = term;
    }

    /**
     * First index that an append starting at {@code firstNew} actually writes (entries at or
     * below the compaction point are skipped, as MemoryStorage does).
     */
    long effectiveStart(long firstNew) {
        return Math.max(firstNew, compactIndex + 1);
    }

    /** Truncates the log so that its next entry is {@code index}; requires index <= lastIndex()+1. */
    void truncateFrom(long index) {
        if (index <= unknownUpTo) {
            unknownUpTo = index - 1;
            head = 0;
            size = 0;
        } else {
            size = (int) (index - unknownUpTo - 1);
        }
    }

    /** Appends the entry {@code lastIndex()+1}. */
    void add(long term, long segment, long offset, int length) {
        if (head + size == terms.length) {
            if (head > terms.length / 2) {
                System.arraycopy(terms, head, terms, 0, size);
                System.arraycopy(segments, head, segments, 0, size);
                System.arraycopy(offsets, head, offsets, 0, size);
                System.arraycopy(lengths, head, lengths, 0, size);
                head = 0;
            } else {
                int cap = terms.length * 2;
                terms = Arrays.copyOf(terms, cap);
                segments = Arrays.copyOf(segments, cap);
                offsets = Arrays.copyOf(offsets, cap);
                lengths = Arrays.copyOf(lengths, cap);
            }
        }
        int s = head + size;
        terms[s] = term;
        segments[s] = segment;
        offsets[s] = offset;
        lengths[s] = length;
        size++;
    }
}

package io.raftkv.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * The core's view of the log: entries already in {@link Storage} plus an unstable tail (and
 * possibly an unstable snapshot) that the application has not persisted yet. Tracks the commit
 * and applied indices. Owned by one {@link RaftNode}; not thread-safe.
 */
final class RaftLog {
    private final Storage storage;
    /** Unstable snapshot received from the leader, or null. */
    private Snapshot unstableSnapshot;
    /** Unstable entries; the first has index {@code offset}. */
    private final ArrayList<Entry> unstable = new ArrayList<>();
    private long offset;
    long committed;
    long applied;
    private final long maxApplyBytes;

    RaftLog(Storage storage, long maxApplyBytes) {
        this.storage = storage;
        this.maxApplyBytes = maxApplyBytes;
        long first = storage.firstIndex();
        long last = storage.lastIndex();
        this.offset = last + 1;
        this.committed = first - 1;
        this.applied = first - 1;
    }

    long firstIndex() {
        if (unstableSnapshot != null) {
            return unstableSnapshot.metadata().index() + 1;
        }
        return storage.firstIndex();
    }

    long lastIndex() {
        if (!unstable.isEmpty()) {
            return offset + unstable.size() - 1;
        }
        if (unstableSnapshot != null) {
            return unstableSnapshot.metadata().index();
        }
        return storage.lastIndex();
    }

    long lastTerm() {
        return term(lastIndex());
    }

    /**
     * Term at {@code i}; 0 if {@code i} is below the first index minus one or above the last
     * (so that log-matching checks simply fail there).
     */
    long term(long i) {
        if (!unstable.isEmpty() && i >= offset) {
            long k = i - offset;
            return k < unstable.size() ? unstable.get((int) k).term() : 0;
        }
        if (unstableSnapshot != null && i == unstableSnapshot.metadata().index()) {
            return unstableSnapshot.metadata().term();
        }
        long dummy = firstIndex() - 1;
        if (i < dummy || i > lastIndex()) {
            return 0;
        }
        try {
            return storage.term(i);
        } catch (Storage.CompactedException | Storage.UnavailableException e) {
            return 0;
        }
    }

    /** True if {@code i} is compacted away (its entry can only be sent as a snapshot). */
    boolean isCompacted(long i) {
        return i < firstIndex();
    }

    boolean matchTerm(long i, long t) {
        return term(i) == t;
    }

    /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up-to-date as ours? */
    boolean isUpToDate(long lasti, long lastt) {
        long myTerm = lastTerm();
        return lastt > myTerm || (lastt == myTerm && lasti >= lastIndex());
    }

    /**
     * AppendEntries receiver (Raft §5.3): if our log matches at (prevIndex, prevTerm), appends the
     * new entries from the first conflict on and returns the index of the last new entry; else -1.
     * {@code appended} receives the entries actually written (from the conflict point on).
     */
    long maybeAppend(long prevIndex, long prevTerm, long leaderCommit, List<Entry> ents, List<Entry> appended) {
        if (!matchTerm(prevIndex, prevTerm)) {
            return -1;
        }
        long lastNew = prevIndex + ents.size();
        long ci = findConflict(ents);
        if (ci != 0) {
            if (ci <= committed) {
                throw new IllegalStateException("entry " + ci + " conflicts with committed entry (committed " + committed + ")");
            }
            List<Entry> tail = ents.subList((int) (ci - (prevIndex + 1)), ents.size());
            append(tail);
            appended.addAll(tail);
        }
        commitTo(Math.min(leaderCommit, lastNew));
        return lastNew;
    }

    /**
     * Index of the first entry in {@code ents} that is not in our log with the same term, or 0
     * if all are present.
     */
    private long findConflict(List<Entry> ents) {
        for (Entry e : ents) {
            if (!matchTerm(e.index(), e.term())) {
                return e.index();
            }
        }
        return 0;
    }

    /**
     * Fast backtracking hint: the largest index at or below {@code index} whose term is at most
     * {@code term}. Terms never decrease along a log, so a backward scan stops early.
     */
    long findConflictByTerm(long index, long term) {
        long first = firstIndex() - 1;
        for (long i = Math.min(index, lastIndex()); i > first; i--) {
            if (term(i) <= term) {
                return i;
            }
        }
        return Math.max(first, 0);
    }

    /** Appends entries, truncating any unstable or stable suffix they replace. */
    long append(List<Entry> ents) {
        if (ents.isEmpty()) {
            return lastIndex();
        }
        long after = ents.get(0).index() - 1;
        if (after < committed) {
            throw new IllegalStateException("append after " + after + " is below committed " + committed);
        }
        truncateAndAppend(ents);
        return lastIndex();
    }

    private void truncateAndAppend(List<Entry> ents) {
        long fromIndex = ents.get(0).index();
        if (fromIndex == offset + unstable.size()) {
            unstable.addAll(ents);
        } else if (fromIndex <= offset) {
            // Replace the whole unstable tail; storage will truncate when these are persisted.
            offset = fromIndex;
            unstable.clear();
            unstable.addAll(ents);
        } else {
            int keep = (int) (fromIndex - offset);
            while (unstable.size() > keep) {
                unstable.remove(unstable.size() - 1);
            }
            unstable.addAll(ents);
        }
    }

    /**
     * Entries from {@code lo} up to the end of the log, at least one, at most {@code maxBytes}.
     *
     * @throws Storage.CompactedException if {@code lo} is compacted
     */
    List<Entry> entries(long lo, long maxBytes) {
        if (lo > lastIndex()) {
            return List.of();
        }
        return slice(lo, lastIndex() + 1, maxBytes);
    }

    List<Entry> slice(long lo, long hi, long maxBytes) {
        if (lo < firstIndex()) {
            throw new Storage.CompactedException(lo, firstIndex());
        }
        if (lo == hi) {
            return List.of();
        }
        List<Entry> out = new ArrayList<>();
        long size = 0;
        if (lo < offset) {
            List<Entry> stored = storage.entries(lo, Math.min(hi, offset), maxBytes);
            out.addAll(stored);
            for (Entry e : stored) {
                size += e.sizeBytes();
            }
            if (stored.size() < Math.min(hi, offset) - lo) {
                return out; // size limit reached inside storage
            }
        }
        if (hi > offset) {
            long from = Math.max(lo, offset);
            for (long i = from; i < hi; i++) {
                Entry e = unstable.get((int) (i - offset));
                size += e.sizeBytes();
                if (!out.isEmpty() && size > maxBytes) {
                    break;
                }
                out.add(e);
            }
        }
        return out;
    }

    void commitTo(long c) {
        if (committed < c) {
            if (lastIndex() < c) {
                throw new IllegalStateException("commit " + c + " is out of range (last index " + lastIndex() + ")");
            }
            committed = c;
        }
    }

    /** Commits {@code maxIndex} if it is from term {@code term}: Raft §5.4.2. */
    boolean maybeCommit(long maxIndex, long term, boolean termCheck) {
        if (maxIndex > committed && maxIndex <= lastIndex() && (!termCheck || term(maxIndex) == term)) {
            commitTo(maxIndex);
            return true;
        }
        return false;
    }

    void appliedTo(long i) {
        if (i == 0) {
            return;
        }
        if (committed < i || i < applied) {
            throw new IllegalStateException("applied " + i + " out of range [" + applied + ", " + committed + "]");
        }
        applied = i;
    }

    /** True if committed entries are waiting to be applied (none while a snapshot is pending). */
    boolean hasNextCommitted() {
        if (unstableSnapshot != null) {
            return false;
        }
        long off = Math.max(applied + 1, firstIndex());
        return committed + 1 > off;
    }

    List<Entry> nextCommitted() {
        if (!hasNextCommitted()) {
            return List.of();
        }
        long off = Math.max(applied + 1, firstIndex());
        return slice(off, committed + 1, maxApplyBytes);
    }

    List<Entry> unstableEntries() {
        return unstable.isEmpty() ? List.of() : List.copyOf(unstable);
    }

    Snapshot unstableSnapshot() {
        return unstableSnapshot;
    }

    /** The application persisted entries up to (i, t); drop them from the unstable tail. */
    void stableTo(long i, long t) {
        if (unstable.isEmpty() || i < offset) {
            return;
        }
        long k = i - offset;
        if (k >= unstable.size() || unstable.get((int) k).term() != t) {
            return; // replaced meanwhile; the newer entries are still unstable
        }
        unstable.subList(0, (int) k + 1).clear();
        offset = i + 1;
    }

    void stableSnapTo(long i) {
        if (unstableSnapshot != null && unstableSnapshot.metadata().index() == i) {
            unstableSnapshot = null;
        }
    }

    /** Replaces the log with a snapshot from the leader (Raft §7). */
    void restore(Snapshot s) {
        committed = s.metadata().index();
        unstableSnapshot = s;
        unstable.clear();
        offset = s.metadata().index() + 1;
    }

    /** The latest snapshot, pending or stored. */
    Snapshot snapshot() {
        if (unstableSnapshot != null) {
            return unstableSnapshot;
        }
        return storage.snapshot();
    }
}

package io.raftkv.raft;

import java.util.List;

/**
 * The log as the core reads it. The application writes to its storage what a {@link Ready}
 * asks to persist (entries, hard state, snapshot), then calls {@link RaftNode#advance}; the core
 * only reads through this interface.
 *
 * <p>Indices: entries {@code firstIndex() .. lastIndex()} are available. The entry at
 * {@code firstIndex() - 1} is covered by the latest snapshot (or is the dummy index 0); its term
 * is still answered by {@link #term(long)}. Calls come from the single thread that drives the
 * core; implementations must not block for long (they may read from disk).
 */
public interface Storage {

    /**
     * Durable hard state, and the configuration as of the snapshot index (the configuration
     * recorded in {@link #snapshot()}'s metadata, or the bootstrap configuration if there is no
     * snapshot). Read once when a node starts; configuration entries after the snapshot index are
     * replayed from the log.
     */
    InitialState initialState();

    /**
     * Entries in {@code [lo, hi)}, at least one if the range is non-empty, then as many as fit
     * in {@code maxSizeBytes}.
     *
     * @throws CompactedException   if {@code lo < firstIndex()}
     * @throws UnavailableException if {@code hi > lastIndex() + 1}
     */
    List<Entry> entries(long lo, long hi, long maxSizeBytes);

    /**
     * Term of the entry at {@code index}, for {@code firstIndex() - 1 <= index <= lastIndex()}.
     *
     * @throws CompactedException   if {@code index < firstIndex() - 1}
     * @throws UnavailableException if {@code index > lastIndex()}
     */
    long term(long index);

    /** Index of the first entry still in the log (snapshot index + 1). */
    long firstIndex();

    /** Index of the last entry in the log (or the snapshot index if the log is empty). */
    long lastIndex();

    /**
     * The most recent snapshot. May be {@link Snapshot#EMPTY}.
     *
     * @throws SnapshotTemporarilyUnavailableException if one is being prepared; the core retries later
     */
    Snapshot snapshot();

    /** Hard state and configuration restored at start. */
    record InitialState(HardState hardState, ConfState confState) {
    }

    /** The requested index lies below the compacted prefix of the log. */
    final class CompactedException extends RuntimeException {
        public CompactedException(long index, long firstIndex) {
            super("requested index " + index + " is compacted (first index " + firstIndex + ")");
        }
    }

    /** The requested index lies beyond the end of the log. */
    final class UnavailableException extends RuntimeException {
        public UnavailableException(long index, long lastIndex) {
            super("requested index " + index + " is unavailable (last index " + lastIndex + ")");
        }
    }

    /** A snapshot is not ready yet; the core will ask again later. */
    final class SnapshotTemporarilyUnavailableException extends RuntimeException {
        public SnapshotTemporarilyUnavailableException() {
            super("snapshot temporarily unavailable");
        }
    }
}

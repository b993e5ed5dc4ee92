package io.raftkv.raft;

/**
 * Identifies the point in the log a snapshot covers.
 *
 * @param index     last index included in the snapshot
 * @param term      term of the entry at {@code index}
 * @param confState configuration as of {@code index}
 */
public record SnapshotMetadata(long index, long term, ConfState confState) {
    /** The metadata of "no snapshot". */
    public static final SnapshotMetadata EMPTY = new SnapshotMetadata(0, 0, ConfState.EMPTY);
}

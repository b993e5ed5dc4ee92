package io.raftkv.mvcc;

/**
 * What a snapshot holds.
 *
 * @param appliedIndex the last Raft index the snapshot includes
 * @param revision the store revision of the snapshot
 * @param bytes bytes written
 */
public record SnapshotInfo(long appliedIndex, long revision, long bytes) {}

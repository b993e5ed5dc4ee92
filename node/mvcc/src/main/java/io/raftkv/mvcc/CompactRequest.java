package io.raftkv.mvcc;

/**
 * A compaction of history, as etcd's {@code CompactionRequest}: reads below {@code revision}
 * fail from now on. The physical reclamation always runs in the background (etcd's
 * {@code physical} flag, which waits for it, is left to the server layer via
 * {@link RocksDbKvStore#awaitBackgroundCompaction()}).
 *
 * @param revision the new compacted revision; must be above the current compacted revision and
 *     at most the current revision
 */
public record CompactRequest(long revision) {}

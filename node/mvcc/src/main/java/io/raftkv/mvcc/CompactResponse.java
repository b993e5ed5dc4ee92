package io.raftkv.mvcc;

/**
 * The result of a compaction.
 *
 * @param revision header revision: the current revision (compaction does not create one)
 * @param compactRevision the new compacted revision
 */
public record CompactResponse(long revision, long compactRevision) {}

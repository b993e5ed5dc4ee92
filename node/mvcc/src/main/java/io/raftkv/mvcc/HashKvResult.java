package io.raftkv.mvcc;

/**
 * The answer to {@link KvStore#hash(long)}, as etcd's {@code HashKVResponse}.
 *
 * @param hash CRC-32C over every key version visible in (compactRevision, revision] plus the
 *     live versions kept at compactRevision, in key-then-revision order; equal on every replica
 *     that applied the same log, whatever its physical compaction progress
 * @param revision the revision hashed up to
 * @param compactRevision the compacted revision when hashed
 */
public record HashKvResult(long hash, long revision, long compactRevision) {}

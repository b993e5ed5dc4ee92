package io.raftkv.mvcc;

/**
 * A lease as stored: the granted TTL and the last remaining-TTL checkpoint. Expiry is decided by
 * the leader's lessor outside this module; the store only persists these numbers.
 *
 * @param id the lease id, positive
 * @param ttlSeconds the granted TTL
 * @param remainingTtlSeconds the last checkpointed remaining TTL (the granted TTL until the
 *     first checkpoint)
 */
public record Lease(long id, long ttlSeconds, long remainingTtlSeconds) {}

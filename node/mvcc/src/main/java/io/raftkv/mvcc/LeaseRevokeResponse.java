package io.raftkv.mvcc;

/**
 * The result of a lease revoke.
 *
 * @param revision header revision: the revision that deleted the attached keys, or the unchanged
 *     current revision when none were attached
 * @param deletedKeys number of keys deleted with the lease
 */
public record LeaseRevokeResponse(long revision, long deletedKeys) {}

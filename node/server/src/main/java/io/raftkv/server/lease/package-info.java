/**
 * Lease expiry (etcd's lessor). Only the leader's {@link io.raftkv.server.lease.Lessor} decides
 * that a lease expired; it then proposes a revoke through the Raft log, so every replica deletes
 * the lease and its keys at the same log index. Followers keep no expiry clock: they forward
 * keep-alives and time-to-live queries to the leader. The remaining TTL is checkpointed through
 * the log so that a new leader (or a restarted cluster) resumes from it, extended by an election
 * timeout, instead of from the granted TTL or from a clock that did not run.
 *
 * <p>The lessor is a plain object with an injected monotonic clock (no threads, no sleeps), so its
 * rules are tested by moving the clock; {@link io.raftkv.server.lease.LessorLoop} is the one
 * thread that turns wall time into lessor checks and proposals.
 */
package io.raftkv.server.lease;

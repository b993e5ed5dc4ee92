package io.raftkv.raft;

/**
 * Volatile state that need not be persisted, reported in a {@link Ready} when it changes.
 *
 * @param leader the known leader, or {@link RaftNode#NONE}
 * @param role   this node's role
 */
public record SoftState(long leader, Role role) {
}

/**
 * The Raft consensus core: a pure, deterministic state machine with no I/O, no threads, no clock
 * and no global randomness (enforced by {@code RaftPurityTest}).
 *
 * <p>Contract: the driver feeds inputs ({@link io.raftkv.raft.RaftNode#tick()},
 * {@link io.raftkv.raft.RaftNode#step(io.raftkv.raft.Message)}, proposals, reads) and turns each
 * {@link io.raftkv.raft.Ready} into effects in this order: persist (snapshot, entries, hard
 * state; fsync when {@code mustSync}), send messages, apply committed entries, then
 * {@link io.raftkv.raft.RaftNode#advance(io.raftkv.raft.Ready)}. The core reads the log only
 * through {@link io.raftkv.raft.Storage}. Everything is single-threaded: one driver thread owns a
 * node.
 */
package io.raftkv.raft;

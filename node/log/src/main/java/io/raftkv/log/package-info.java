/**
 * The durable Raft log: entries, hard state and snapshot metadata on disk, crash-safe.
 *
 * <p>{@link io.raftkv.log.SegmentedWal} implements {@link io.raftkv.raft.Storage} with the
 * semantics of {@link io.raftkv.raft.MemoryStorage}. Contract:
 * <ul>
 *   <li>Single thread: the Raft driver is the only caller, of writes and reads alike; nothing
 *       is synchronized.</li>
 *   <li>{@code persist} returns only when everything it was given is durable (one fdatasync);
 *       the driver sends a Ready's messages after it returns, never before (Raft §5.1: a vote
 *       or an acknowledgement must not outrun the state it depends on).</li>
 *   <li>After a crash, {@code open} restores exactly what was persisted; a torn last write
 *       (never acknowledged) is truncated with a warning, any other damage fails with
 *       {@link io.raftkv.log.LogCorruptionException} naming the file and byte offset.</li>
 *   <li>Committed data is never dropped silently: compaction is refused beyond the snapshot.</li>
 * </ul>
 */
package io.raftkv.log;

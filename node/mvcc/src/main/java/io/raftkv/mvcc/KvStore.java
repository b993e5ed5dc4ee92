package io.raftkv.mvcc;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The MVCC key-value state machine with etcd v3 semantics: the thing each Raft node applies
 * committed entries to.
 *
 * <p><b>Threads.</b> Exactly one thread, the applier, calls the mutating methods (those taking a
 * {@code raftIndex}) in log order. Any number of other threads may call the read methods
 * concurrently; each read sees one consistent revision. {@link #close()} must not race with other
 * calls.
 *
 * <p><b>Exactly once.</b> Every mutating call carries the Raft index of its log entry. The store
 * writes its effects and the new appliedIndex in one atomic batch, so after a crash it holds the
 * effects of exactly the entries up to {@link #appliedIndex()}. That index may be older than the
 * last one applied before the crash (writes are not durable one by one; see {@link #sync()}):
 * the caller replays the rest from its log. A call with an index at or below
 * appliedIndex changes nothing: it returns the result recorded for that index if the store still
 * remembers it (the most recent few thousand, in memory only), else a no-op result whose header
 * revision is the current revision and whose body is empty. A refused request (an
 * {@link MvccException}) still consumes its index, since every replica refuses it alike.
 *
 * <p><b>Failures.</b> An {@link MvccException} is a refusal every replica makes alike. Any other
 * exception (RocksDB I/O failure, a failed background compaction) means the store can no longer
 * be trusted: the caller should stop applying and crash, and the entry is replayed on restart.
 *
 * <p><b>Revisions.</b> The store revision starts at 1 (etcd's initial revision) and grows by one
 * per applied write that changes something; a transaction's writes share one revision.
 */
public interface KvStore extends AutoCloseable {

  /** The last Raft index whose effects are in the store; survives restart. */
  long appliedIndex();

  /** The current store revision. */
  long currentRevision();

  /** The compacted revision: reads below it fail; 0 before the first compaction. */
  long compactRevision();

  /** Reads keys at the current or a past revision. Thread-safe, does not block writers. */
  RangeResponse range(RangeRequest request);

  /** Applies a put at log index {@code raftIndex}. */
  PutResponse put(long raftIndex, PutRequest request);

  /** Applies a delete at log index {@code raftIndex}; deleting nothing creates no revision. */
  DeleteRangeResponse deleteRange(long raftIndex, DeleteRangeRequest request);

  /** Applies a transaction at log index {@code raftIndex}. */
  TxnResponse txn(long raftIndex, TxnRequest request);

  /**
   * Applies a compaction at log index {@code raftIndex}: reads below the revision fail at once;
   * superseded versions are deleted by a background thread in small batches. Fails COMPACTED at
   * or below the compacted revision, FUTURE_REV above the current one; creates no revision.
   */
  CompactResponse compact(long raftIndex, CompactRequest request);

  /** Shorthand for {@code compact(raftIndex, new CompactRequest(revision))}. */
  default CompactResponse compact(long raftIndex, long revision) {
    return compact(raftIndex, new CompactRequest(revision));
  }

  /** Records {@code raftIndex} as applied for a log entry with no key-value effect. */
  void markApplied(long raftIndex);

  /**
   * Makes everything applied so far durable (flushes the store to disk). Writes are not
   * synced one by one when the Raft log is, so the driver calls this before it compacts the Raft
   * log: entries may only leave the log once their effects cannot be lost (etcd commits its
   * backend before compacting for the same reason). Applier thread only.
   */
  void sync();

  /**
   * Starts making everything applied so far durable, without waiting for it (a background flush);
   * {@link #durableIndex()} tells when it is done. Applier thread only.
   */
  void startSync();

  /**
   * The highest applied index whose effects survive a crash now: what {@link #appliedIndex()}
   * would be after a crash and reopen. Entries above it must stay in the caller's log. Applier
   * thread only.
   */
  long durableIndex();

  /** Creates lease {@code id} (positive) with {@code ttlSeconds}. */
  Lease leaseGrant(long raftIndex, long id, long ttlSeconds);

  /** Deletes lease {@code id} and, in one revision, every key attached to it. */
  LeaseRevokeResponse leaseRevoke(long raftIndex, long id);

  /** Persists the leader's remaining-TTL checkpoint of lease {@code id} (etcd lease checkpoint). */
  Lease leaseCheckpoint(long raftIndex, long id, long remainingTtlSeconds);

  /**
   * Persists several remaining-TTL checkpoints in one log entry (etcd's LeaseCheckpointRequest
   * carries a batch). Leases that no longer exist are skipped, as etcd skips them; returns how
   * many were recorded.
   */
  int leaseCheckpoints(long raftIndex, Map<Long, Long> remainingTtlSeconds);

  /** All leases in id order. Thread-safe. */
  List<Lease> leases();

  /** Lease {@code id} with, when asked, its attached keys. Thread-safe. */
  LeaseTimeToLive leaseTimeToLive(long id, boolean withKeys);

  /**
   * The raised alarms. NOSPACE is raised after an apply leaves {@link #historyBytes()} above the
   * quota, and cleared after an apply (in practice a compaction) brings it back. Thread-safe.
   */
  Set<Alarm> alarms();

  /**
   * Estimated physical size of the backend in bytes (RocksDB's
   * {@code rocksdb.total-sst-files-size} plus {@code rocksdb.cur-size-all-mem-tables}), as etcd's
   * dbSize, for metrics. It lags compaction and differs between replicas.
   */
  long dbSizeBytes();

  /**
   * The size the quota is checked against: key and value bytes plus a fixed overhead of every
   * version still readable above the compacted revision (superseded versions leave at the
   * compaction that makes them unreadable, before their physical deletion). A pure function of
   * the applied log, so every replica raises and clears NOSPACE at the same entry.
   */
  long historyBytes();

  /**
   * etcd's HashKV: a hash of the key history up to {@code revision} (0: current) that is equal on
   * every replica that applied the same log. Thread-safe.
   */
  HashKvResult hash(long revision);

  /**
   * The events of revisions {@code [fromRevision, toRevision]} from history, in revision order,
   * for serving slow watchers; {@code toRevision} is capped at the current revision. Fails
   * COMPACTED when {@code fromRevision} is below the compacted revision. Each event carries its
   * prevKv, except events at exactly the compacted revision (that history is gone). Thread-safe.
   */
  List<Event> events(long fromRevision, long toRevision);

  /** Registers a listener told about each new revision (see {@link RevisionListener}). */
  void addRevisionListener(RevisionListener listener);

  /**
   * Streams a consistent snapshot of the whole store (data, history above compaction, leases,
   * appliedIndex) into {@code out} in checksummed chunks. Thread-safe; writers go on meanwhile.
   * Does not close {@code out}.
   */
  SnapshotInfo snapshot(OutputStream out) throws IOException;

  /** Releases every resource; waits for the background compactor to stop. */
  @Override
  void close();
}

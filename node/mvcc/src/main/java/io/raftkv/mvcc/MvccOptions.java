package io.raftkv.mvcc;

import java.util.Objects;

/**
 * Settings of a {@link RocksDbKvStore}.
 *
 * @param quotaBytes backend quota (etcd's {@code --quota-backend-bytes}, default 2 GiB), checked
 *     against {@link KvStore#historyBytes()}; above it the NOSPACE alarm is raised
 * @param syncWrites write RocksDB's own WAL and fsync it for each applied batch. Off by default:
 *     the Raft log is fsynced before entries are applied, so the store writes no WAL at all, its
 *     memtables reach disk by (atomic, all-family) flushes, and after a crash it reopens at the
 *     appliedIndex of the last flush and the caller replays the rest from its log; {@link
 *     KvStore#sync()} flushes. Only a store without a durable log needs this on
 * @param compactionBatchSize how many history versions the background compactor deletes per
 *     write batch; small batches keep the applier's writes flowing
 * @param compactionListener observer of the background compaction
 * @param latestVersionsBytes memory for the applier's cache of the live versions of recently used
 *     keys (16 MiB by default; 0 turns it off): a write to a cached key needs no RocksDB read
 * @param writeBufferBytes RocksDB memtable size per column family (16 MiB by default). Without
 *     syncWrites it also bounds what a restart after a crash replays from the Raft log
 */
public record MvccOptions(
    long quotaBytes,
    boolean syncWrites,
    int compactionBatchSize,
    CompactionListener compactionListener,
    long latestVersionsBytes,
    long writeBufferBytes) {

  /** The default memtable size, 16 MiB. */
  public static final long DEFAULT_WRITE_BUFFER_BYTES = 16L * 1024 * 1024;

  /** The default memory for the cache of live versions, 16 MiB. */
  public static final long DEFAULT_LATEST_VERSIONS_BYTES = 16L * 1024 * 1024;

  /** etcd's default backend quota, 2 GiB. */
  public static final long DEFAULT_QUOTA_BYTES = 2L * 1024 * 1024 * 1024;

  /** Validates the settings. */
  public MvccOptions {
    if (quotaBytes <= 0) {
      throw new IllegalArgumentException("quotaBytes must be positive: " + quotaBytes);
    }
    if (compactionBatchSize <= 0) {
      throw new IllegalArgumentException("compactionBatchSize must be positive");
    }
    Objects.requireNonNull(compactionListener, "compactionListener");
    if (latestVersionsBytes < 0) {
      throw new IllegalArgumentException("latestVersionsBytes must not be negative");
    }
    if (writeBufferBytes < 64 * 1024) {
      throw new IllegalArgumentException("writeBufferBytes must be at least 64 KiB");
    }
  }

  /**
   * The defaults: 2 GiB quota, no fsync, 1000 versions per compaction batch, 16 MiB of cached live
   * versions, 16 MiB memtables.
   */
  public static MvccOptions defaults() {
    return new MvccOptions(DEFAULT_QUOTA_BYTES, false, 1000, CompactionListener.NONE,
        DEFAULT_LATEST_VERSIONS_BYTES, DEFAULT_WRITE_BUFFER_BYTES);
  }

  /** These options with another quota. */
  public MvccOptions withQuotaBytes(long bytes) {
    return new MvccOptions(bytes, syncWrites, compactionBatchSize, compactionListener, latestVersionsBytes,
        writeBufferBytes);
  }

  /** These options with fsync on or off. */
  public MvccOptions withSyncWrites(boolean sync) {
    return new MvccOptions(quotaBytes, sync, compactionBatchSize, compactionListener, latestVersionsBytes,
        writeBufferBytes);
  }

  /** These options with another compaction batch size. */
  public MvccOptions withCompactionBatchSize(int size) {
    return new MvccOptions(quotaBytes, syncWrites, size, compactionListener, latestVersionsBytes,
        writeBufferBytes);
  }

  /** These options with another compaction listener. */
  public MvccOptions withCompactionListener(CompactionListener listener) {
    return new MvccOptions(quotaBytes, syncWrites, compactionBatchSize, listener, latestVersionsBytes,
        writeBufferBytes);
  }

  /** These options with another amount of memory for cached live versions (0: no cache). */
  public MvccOptions withLatestVersionsBytes(long bytes) {
    return new MvccOptions(quotaBytes, syncWrites, compactionBatchSize, compactionListener, bytes,
        writeBufferBytes);
  }

  /** These options with another memtable size. */
  public MvccOptions withWriteBufferBytes(long bytes) {
    return new MvccOptions(quotaBytes, syncWrites, compactionBatchSize, compactionListener,
        latestVersionsBytes, bytes);
  }
}

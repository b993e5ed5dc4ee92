package io.raftkv.mvcc;

import java.util.Objects;

/**
 * Settings of a {@link RocksDbKvStore}.
 *
 * @param quotaBytes backend quota (etcd's {@code --quota-backend-bytes}, default 2 GiB), checked
 *     against {@link KvStore#historyBytes()}; above it the NOSPACE alarm is raised
 * @param syncWrites fsync each applied batch. Off by default: the Raft log is fsynced before
 *     entries are applied, so after a crash the store replays from its durable appliedIndex; sync
 *     only matters when the log is not durable
 * @param compactionBatchSize how many history versions the background compactor deletes per
 *     write batch; small batches keep the applier's writes flowing
 * @param compactionListener observer of the background compaction
 */
public record MvccOptions(
    long quotaBytes,
    boolean syncWrites,
    int compactionBatchSize,
    CompactionListener compactionListener) {

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
  }

  /** The defaults: 2 GiB quota, no fsync, 1000 versions per compaction batch. */
  public static MvccOptions defaults() {
    return new MvccOptions(DEFAULT_QUOTA_BYTES, false, 1000, CompactionListener.NONE);
  }

  /** These options with another quota. */
  public MvccOptions withQuotaBytes(long bytes) {
    return new MvccOptions(bytes, syncWrites, compactionBatchSize, compactionListener);
  }

  /** These options with fsync on or off. */
  public MvccOptions withSyncWrites(boolean sync) {
    return new MvccOptions(quotaBytes, sync, compactionBatchSize, compactionListener);
  }

  /** These options with another compaction batch size. */
  public MvccOptions withCompactionBatchSize(int size) {
    return new MvccOptions(quotaBytes, syncWrites, size, compactionListener);
  }

  /** These options with another compaction listener. */
  public MvccOptions withCompactionListener(CompactionListener listener) {
    return new MvccOptions(quotaBytes, syncWrites, compactionBatchSize, listener);
  }
}

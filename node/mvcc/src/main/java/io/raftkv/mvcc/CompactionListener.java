package io.raftkv.mvcc;

/**
 * Observes the background reclamation of compacted history (for metrics and tests). Called on the
 * compaction thread; may block, which only delays reclamation, never writes or reads.
 */
public interface CompactionListener {

  /** A listener that ignores everything. */
  CompactionListener NONE = new CompactionListener() {};

  /** Called after each batch of deletions is written; {@code deleted} versions so far. */
  default void onBatch(long compactRevision, long deleted) {}

  /** Called when every superseded version at or below {@code compactRevision} is gone. */
  default void onFinished(long compactRevision, long deleted) {}
}

package io.raftkv.mvcc;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where the live version of each recently used key is (its revision and sub-revision), or that
 * it has none, so that a put, a delete or a txn compare of a hot key reads that one row with a
 * point lookup instead of seeking RocksDB for the key's newest row (an iterator over every level;
 * the seek was half of the applier's CPU). etcd keeps an in-memory index of every key for the
 * same reason; this one is bounded by {@code maxBytes} and forgets the least recently used keys
 * first. It holds locations, not values: values would live here for seconds, long enough for the
 * collector to promote each one to the old generation before it is overwritten.
 *
 * <p>Only the applier uses it (not thread-safe). It stays true because the applier is the only
 * writer of live versions: it records a key here after reading the key's newest row, or after the
 * batch that changed the key is written. The background compactor only deletes superseded rows
 * and tombstones, which never changes where the live version is.
 */
final class LatestVersions {
  /** What a key costs beyond its key bytes (map entry, slot, Bytes, array header). */
  static final int OVERHEAD_BYTES = 160;

  /**
   * One cached answer: the live version is the row at {@code modRevision.subRevision}, or the
   * key has no live version when {@link #absent()}.
   */
  record Slot(long modRevision, long subRevision) {
    boolean absent() {
      return modRevision == 0;
    }
  }

  private static final Slot ABSENT = new Slot(0, 0);

  private final long maxBytes;
  private final LinkedHashMap<Bytes, Slot> slots = new LinkedHashMap<>(1024, 0.75f, true);
  private long bytes;

  LatestVersions(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** The cached answer for {@code key}, or null when this cache does not know the key. */
  Slot get(Bytes key) {
    return slots.get(key);
  }

  /** Records that the live version of {@code key} is the row at {@code modRevision.subRevision}. */
  void live(Bytes key, long modRevision, long subRevision) {
    if (modRevision <= 0) {
      throw new IllegalArgumentException("revision must be positive: " + modRevision);
    }
    store(key, new Slot(modRevision, subRevision));
  }

  /** Records that {@code key} has no live version. */
  void absent(Bytes key) {
    store(key, ABSENT);
  }

  private void store(Bytes key, Slot slot) {
    if (maxBytes <= 0) {
      return;
    }
    if (slots.put(key, slot) == null) {
      bytes += cost(key);
    }
    if (bytes > maxBytes) {
      Iterator<Map.Entry<Bytes, Slot>> it = slots.entrySet().iterator();
      while (bytes > maxBytes && it.hasNext()) {
        Map.Entry<Bytes, Slot> eldest = it.next();
        bytes -= cost(eldest.getKey());
        it.remove();
      }
    }
  }

  /** Keys cached now. */
  int size() {
    return slots.size();
  }

  /** Bytes accounted now (at most {@code maxBytes}). */
  long bytes() {
    return bytes;
  }

  private static long cost(Bytes key) {
    return OVERHEAD_BYTES + key.size();
  }
}

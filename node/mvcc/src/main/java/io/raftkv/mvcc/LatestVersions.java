package io.raftkv.mvcc;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The live version (or the known absence) of recently written or read keys, so that a put, a
 * delete or a txn compare of a hot key does not have to seek RocksDB for the key's newest row.
 * etcd keeps an in-memory index of every key for the same reason; this one is bounded by
 * {@code maxBytes} and forgets the least recently used keys first.
 *
 * <p>Only the applier uses it (not thread-safe). It stays true because the applier is the only
 * writer of live versions: it records a key here after reading the key's newest row, or after the
 * batch that changed the key is written. The background compactor only deletes superseded rows
 * and tombstones, which never changes what is live.
 */
final class LatestVersions {
  /** What a key costs beyond its key and value bytes (map entry, slot, KeyValue, Bytes). */
  static final int OVERHEAD_BYTES = 160;

  /** One cached answer: {@code kv} is the live version, or null when the key has none. */
  record Slot(KeyValue kv) {
  }

  private static final Slot ABSENT = new Slot(null);

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

  /** Records {@code kv} (null: no live version) as the live version of {@code key}. */
  void put(Bytes key, KeyValue kv) {
    if (maxBytes <= 0) {
      return;
    }
    Slot slot = kv == null ? ABSENT : new Slot(kv);
    Slot old = slots.put(key, slot);
    if (old != null) {
      bytes -= cost(key, old);
    }
    bytes += cost(key, slot);
    if (bytes > maxBytes) {
      Iterator<Map.Entry<Bytes, Slot>> it = slots.entrySet().iterator();
      while (bytes > maxBytes && it.hasNext()) {
        Map.Entry<Bytes, Slot> eldest = it.next();
        bytes -= cost(eldest.getKey(), eldest.getValue());
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

  private static long cost(Bytes key, Slot slot) {
    return OVERHEAD_BYTES + key.size() + (slot.kv() == null ? 0 : slot.kv().value().size());
  }
}

package io.raftkv.mvcc;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the applier knows of the live version of each recently used key: where it is (its
 * revision and sub-revision) and everything of it but its value (create revision, version,
 * lease, value size), or that the key has none.
 *
 * <p>A plain put needs exactly that of the version it replaces, so with a hit it reads nothing
 * from RocksDB (a memtable point lookup was half of the applier's CPU under puts). A put whose
 * previous value is wanted, a delete and a txn compare read that one row with a point lookup at
 * the cached location instead of seeking RocksDB for the key's newest row. etcd keeps an
 * in-memory index of every key for the same reason; this one is bounded by {@code maxBytes} and
 * forgets the least recently used keys first. It holds no values: values would live here for
 * seconds, long enough for the collector to promote each one to the old generation before it is
 * overwritten; for the same reason an update rewrites the key's slot in place.
 *
 * <p>Only the applier uses it (not thread-safe). It stays true because the applier is the only
 * writer of live versions: it records a key here after reading the key's newest row, or after the
 * batch that changed the key is written. The background compactor only deletes superseded rows
 * and tombstones, which never changes the live version.
 */
final class LatestVersions {
  /** What a key costs beyond its key bytes (map entry, slot, Bytes, array header). */
  static final int OVERHEAD_BYTES = 192;

  /**
   * One cached answer: the key's live version is the row at {@code modRevision.subRevision}
   * with the other fields as given, or the key has no live version when {@link #absent()}.
   * Valid until the next call to this cache: the slot is reused when the key changes again.
   */
  static final class Slot {
    private long modRevision;
    private long subRevision;
    private long createRevision;
    private long version;
    private long lease;
    private int valueSize;

    boolean absent() {
      return modRevision == 0;
    }

    long modRevision() {
      return modRevision;
    }

    long subRevision() {
      return subRevision;
    }

    long createRevision() {
      return createRevision;
    }

    long version() {
      return version;
    }

    long lease() {
      return lease;
    }

    int valueSize() {
      return valueSize;
    }

    private void set(KeyValue kv, long sub) {
      modRevision = kv.modRevision();
      subRevision = sub;
      createRevision = kv.createRevision();
      version = kv.version();
      lease = kv.lease();
      valueSize = kv.value().size();
    }

    private void clear() {
      modRevision = subRevision = createRevision = version = lease = 0;
      valueSize = 0;
    }

    @Override
    public String toString() {
      return absent() ? "absent" : "live at " + modRevision + "." + subRevision + " (create "
          + createRevision + ", version " + version + ", lease " + lease + ", " + valueSize + " B)";
    }
  }

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

  /** Records that {@code kv}, at sub-revision {@code sub}, is the live version of its key. */
  void live(KeyValue kv, long sub) {
    if (kv.modRevision() <= 0) {
      throw new IllegalArgumentException("revision must be positive: " + kv.modRevision());
    }
    Slot slot = slotFor(kv.key());
    if (slot != null) {
      slot.set(kv, sub);
    }
  }

  /** Records that {@code key} has no live version. */
  void absent(Bytes key) {
    Slot slot = slotFor(key);
    if (slot != null) {
      slot.clear();
    }
  }

  /**
   * The key's slot to overwrite, added (and the eldest evicted) when new; null: caches nothing.
   * A key larger than the whole budget evicts itself too: its slot is then written and dropped.
   */
  private Slot slotFor(Bytes key) {
    if (maxBytes <= 0) {
      return null;
    }
    Slot slot = slots.get(key);
    if (slot != null) {
      return slot;
    }
    slot = new Slot();
    slots.put(key, slot);
    bytes += cost(key);
    if (bytes > maxBytes) {
      Iterator<Map.Entry<Bytes, Slot>> it = slots.entrySet().iterator();
      while (bytes > maxBytes && it.hasNext()) {
        Map.Entry<Bytes, Slot> eldest = it.next();
        bytes -= cost(eldest.getKey());
        it.remove();
      }
    }
    return slot;
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

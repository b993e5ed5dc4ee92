package io.raftkv.mvcc;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The on-disk layout. All integers are big-endian so that RocksDB's bytewise order is numeric.
 *
 * <ul>
 *   <li>{@code kv} family: {@code escape(userKey) ++ ~modRevision ++ ~subRevision} maps to a
 *       version record. The escaping (0x00 to 0x00 0xff, terminator 0x00 0x01) keeps user-key
 *       order and makes no encoded key a prefix of another; the inverted revisions put the newest
 *       version first. The sub-revision is part of the key because etcd lets one transaction put
 *       a key in one nested txn and delete it in a later sibling: two versions at one revision.
 *   <li>version record: {@code flags(1) createRevision(8) version(8) lease(8) value}; flag
 *       bit 0 marks a tombstone (a delete).
 *   <li>{@code rev} family: {@code mainRevision(8) subRevision(8)} maps to the user key, the
 *       revision-ordered index used by watch catch-up.
 *   <li>{@code lease} family: {@code id(8)} maps to {@code ttl(8) remainingTtl(8)}.
 *   <li>{@code leasekey} family: {@code id(8) ++ userKey}, empty value: keys attached to a lease.
 *   <li>default family: meta values and {@code "free/" ++ revision(8)} quota entries: the bytes a
 *       compaction at or above that revision frees. What every apply changes is one row,
 *       {@code "state"}: {@code appliedIndex(8) revision(8) historyBytes(8)}. Stores written
 *       before that row existed kept the three in rows of their own; they are read when
 *       {@code "state"} is missing.
 * </ul>
 */
final class Codec {

  /** appliedIndex, revision and historyBytes in one row: one memtable insert per apply. */
  static final byte[] META_STATE = ascii("state");
  // Rows of stores written before META_STATE; read only when it is missing.
  static final byte[] META_APPLIED_INDEX = ascii("appliedIndex");
  static final byte[] META_REVISION = ascii("revision");
  static final byte[] META_COMPACT_REVISION = ascii("compactRevision");
  static final byte[] META_FINISHED_COMPACT_REVISION = ascii("finishedCompactRevision");
  static final byte[] META_HISTORY_BYTES = ascii("historyBytes");
  private static final byte[] FREE_PREFIX = ascii("free/");

  /**
   * Quota accounting of one version: key and value bytes plus a fixed 32 bytes for revisions,
   * version, lease and index. A pure function of the request, so equal on every replica.
   */
  static long versionBytes(Bytes key, Bytes value) {
    return versionBytes(key.size(), value.size());
  }

  /** {@link #versionBytes(Bytes, Bytes)} from the sizes. */
  static long versionBytes(int keySize, int valueSize) {
    return keySize + valueSize + 32L;
  }

  /** Meta key holding the bytes that a compaction at or above {@code rev} frees. */
  static byte[] freeKey(long rev) {
    byte[] out = Arrays.copyOf(FREE_PREFIX, FREE_PREFIX.length + 8);
    putLong(out, FREE_PREFIX.length, rev);
    return out;
  }

  /** Whether {@code metaKey} is a {@link #freeKey}. */
  static boolean isFreeKey(byte[] metaKey) {
    return metaKey.length == FREE_PREFIX.length + 8
        && Arrays.equals(metaKey, 0, FREE_PREFIX.length, FREE_PREFIX, 0, FREE_PREFIX.length);
  }

  /** The revision of a {@link #freeKey}. */
  static long freeRevisionOf(byte[] metaKey) {
    return getLong(metaKey, FREE_PREFIX.length);
  }

  /** The {@link #META_STATE} value. */
  static byte[] state(long appliedIndex, long revision, long historyBytes) {
    byte[] out = new byte[24];
    putLong(out, 0, appliedIndex);
    putLong(out, 8, revision);
    putLong(out, 16, historyBytes);
    return out;
  }

  private static final int HEADER = 1 + 8 + 8 + 8;

  private Codec() {}

  static byte[] ascii(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  /** The order-preserving, prefix-free encoding of a user key. */
  static byte[] encodeKey(byte[] key) {
    int zeros = 0;
    for (byte b : key) {
      if (b == 0) {
        zeros++;
      }
    }
    byte[] out = new byte[key.length + zeros + 2];
    int j = 0;
    for (byte b : key) {
      out[j++] = b;
      if (b == 0) {
        out[j++] = (byte) 0xff;
      }
    }
    out[j++] = 0;
    out[j] = 1;
    return out;
  }

  static final int REV_BYTES = 16;

  /** The kv-family key of {@code encodedKey} at revision {@code main.sub}. */
  static byte[] kvKey(byte[] encodedKey, long main, long sub) {
    byte[] out = Arrays.copyOf(encodedKey, encodedKey.length + REV_BYTES);
    putLong(out, encodedKey.length, ~main);
    putLong(out, encodedKey.length + 8, ~sub);
    return out;
  }

  /** The seek target for the newest version of {@code encodedKey} at or below {@code main}. */
  static byte[] kvKeyAtOrBelow(byte[] encodedKey, long main) {
    byte[] out = Arrays.copyOf(encodedKey, encodedKey.length + REV_BYTES);
    putLong(out, encodedKey.length, ~main);
    return out;
  }

  /** A kv-family key after every version of {@code encodedKey}. */
  static byte[] kvKeyAfterAll(byte[] encodedKey) {
    byte[] out = Arrays.copyOf(encodedKey, encodedKey.length + REV_BYTES);
    Arrays.fill(out, encodedKey.length, out.length, (byte) 0xff);
    return out;
  }

  /** The mod (main) revision of a kv-family key. */
  static long revisionOf(byte[] kvKey) {
    return ~getLong(kvKey, kvKey.length - REV_BYTES);
  }

  /** The sub-revision of a kv-family key. */
  static long subRevisionOf(byte[] kvKey) {
    return ~getLong(kvKey, kvKey.length - 8);
  }

  /** Whether kv-family key {@code kvKey} belongs to the user key encoded as {@code encodedKey}. */
  static boolean sameKey(byte[] kvKey, byte[] encodedKey) {
    return kvKey.length == encodedKey.length + REV_BYTES
        && Arrays.equals(kvKey, 0, encodedKey.length, encodedKey, 0, encodedKey.length);
  }

  /** The encoded user key part of a kv-family key. */
  static byte[] encodedKeyOf(byte[] kvKey) {
    return Arrays.copyOf(kvKey, kvKey.length - REV_BYTES);
  }

  /** The user key of a kv-family key. */
  static byte[] userKeyOf(byte[] kvKey) {
    int n = kvKey.length - REV_BYTES - 2;
    byte[] out = new byte[n];
    int j = 0;
    for (int i = 0; i < n; i++) {
      out[j++] = kvKey[i];
      if (kvKey[i] == 0) {
        i++;
      }
    }
    return j == n ? out : Arrays.copyOf(out, j);
  }

  static boolean isTombstone(byte[] record) {
    return (record[0] & 1) != 0;
  }

  static byte[] record(boolean tombstone, long create, long version, long lease, byte[] value) {
    byte[] out = new byte[HEADER + value.length];
    ByteBuffer.wrap(out)
        .put((byte) (tombstone ? 1 : 0))
        .putLong(create)
        .putLong(version)
        .putLong(lease)
        .put(value);
    return out;
  }

  /** Decodes a live version record. */
  static KeyValue decode(byte[] userKey, long modRevision, byte[] record) {
    ByteBuffer b = ByteBuffer.wrap(record, 1, HEADER - 1);
    long create = b.getLong();
    long version = b.getLong();
    long lease = b.getLong();
    byte[] value = Arrays.copyOfRange(record, HEADER, record.length);
    return new KeyValue(Bytes.wrap(userKey), create, modRevision, version, Bytes.wrap(value),
        lease);
  }

  static byte[] revKey(long main, long sub) {
    byte[] out = new byte[16];
    putLong(out, 0, main);
    putLong(out, 8, sub);
    return out;
  }

  static byte[] leaseKey(long id) {
    byte[] out = new byte[8];
    putLong(out, 0, id);
    return out;
  }

  static byte[] leaseKeyEntry(long id, byte[] userKey) {
    byte[] out = new byte[8 + userKey.length];
    putLong(out, 0, id);
    System.arraycopy(userKey, 0, out, 8, userKey.length);
    return out;
  }

  static byte[] leaseValue(long ttl, long remaining) {
    byte[] out = new byte[16];
    putLong(out, 0, ttl);
    putLong(out, 8, remaining);
    return out;
  }

  static byte[] longBytes(long v) {
    byte[] out = new byte[8];
    putLong(out, 0, v);
    return out;
  }

  static void putLong(byte[] b, int off, long v) {
    for (int i = 7; i >= 0; i--) {
      b[off + i] = (byte) v;
      v >>>= 8;
    }
  }

  static long getLong(byte[] b, int off) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[off + i] & 0xff);
    }
    return v;
  }
}

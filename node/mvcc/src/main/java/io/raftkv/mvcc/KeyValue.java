package io.raftkv.mvcc;

import java.util.Objects;

/**
 * One version of a key, as etcd's {@code mvccpb.KeyValue}.
 *
 * @param key the key, never empty
 * @param createRevision revision of the put that created this key's current generation
 * @param modRevision revision of the last modification
 * @param version number of puts since the key was (re)created, starting at 1; a delete resets it
 * @param value the value ({@link Bytes#EMPTY} when the range asked for keys only)
 * @param lease the attached lease id, 0 for none
 */
public record KeyValue(
    Bytes key, long createRevision, long modRevision, long version, Bytes value, long lease) {

  /** Validates non-null fields. */
  public KeyValue {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
  }

  /** This key-value with its value replaced by {@link Bytes#EMPTY} (etcd's keys_only). */
  public KeyValue withoutValue() {
    return new KeyValue(key, createRevision, modRevision, version, Bytes.EMPTY, lease);
  }
}

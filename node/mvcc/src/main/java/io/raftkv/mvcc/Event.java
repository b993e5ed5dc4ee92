package io.raftkv.mvcc;

import java.util.Objects;
import java.util.Optional;

/**
 * One change of one key, as etcd's {@code mvccpb.Event}.
 *
 * @param type PUT or DELETE
 * @param kv for PUT the new key-value; for DELETE the key with mod revision = the delete's
 *     revision and zero version, create revision and empty value (as etcd)
 * @param prevKv the version before the change, when known (see {@link KvStore#events} and
 *     {@link RevisionListener#onRevision})
 */
public record Event(Type type, KeyValue kv, Optional<KeyValue> prevKv) {

  /** The kind of change. */
  public enum Type {
    /** A put. */
    PUT,
    /** A delete. */
    DELETE
  }

  /** Validates non-null fields. */
  public Event {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(kv, "kv");
    Objects.requireNonNull(prevKv, "prevKv");
  }
}

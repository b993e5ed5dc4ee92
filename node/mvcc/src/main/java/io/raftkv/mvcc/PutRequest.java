package io.raftkv.mvcc;

import java.util.Objects;

/**
 * A write of one key, as etcd's {@code PutRequest}.
 *
 * @param key the key, must not be empty
 * @param value the value; must be empty when {@code ignoreValue}
 * @param lease lease to attach, 0 for none (a re-put without lease detaches); must be 0 when
 *     {@code ignoreLease}
 * @param prevKv return the previous key-value
 * @param ignoreValue keep the current value (the key must exist)
 * @param ignoreLease keep the current lease (the key must exist)
 */
public record PutRequest(
    Bytes key, Bytes value, long lease, boolean prevKv, boolean ignoreValue, boolean ignoreLease)
    implements RequestOp {

  /** Validates non-null fields. */
  public PutRequest {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
  }

  /** A plain put without lease or flags. */
  public static PutRequest of(Bytes key, Bytes value) {
    return new PutRequest(key, value, 0, false, false, false);
  }

  /** A plain put attached to {@code lease}. */
  public static PutRequest of(Bytes key, Bytes value, long lease) {
    return new PutRequest(key, value, lease, false, false, false);
  }

  /** This put, returning the previous key-value. */
  public PutRequest withPrevKv() {
    return new PutRequest(key, value, lease, true, ignoreValue, ignoreLease);
  }
}

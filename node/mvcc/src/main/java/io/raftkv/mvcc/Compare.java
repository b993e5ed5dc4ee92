package io.raftkv.mvcc;

import java.util.Objects;

/**
 * A transaction guard, as etcd's {@code Compare}: compares one field of a key (or of every key in
 * a range) with an operand.
 *
 * <p>Semantics (etcd {@code applyCompare}): over a range the compare holds when it holds for every
 * key; a missing key (or empty range) compares as a zero key-value (version, revisions and lease
 * 0), except that a VALUE compare on a missing key is always false.
 *
 * @param key the key, or the start of the range
 * @param rangeEnd end of the range with {@link RangeRequest}'s conventions; empty for one key
 * @param target the compared field
 * @param result the relation that must hold: {@code field RESULT operand}
 * @param number the operand for VERSION, CREATE, MOD and LEASE
 * @param value the operand for VALUE
 */
public record Compare(
    Bytes key, Bytes rangeEnd, Target target, Result result, long number, Bytes value) {

  /** The compared field. */
  public enum Target {
    /** The version. */
    VERSION,
    /** The create revision. */
    CREATE,
    /** The mod revision. */
    MOD,
    /** The value bytes. */
    VALUE,
    /** The attached lease id. */
    LEASE
  }

  /** The relation. */
  public enum Result {
    /** Equal. */
    EQUAL,
    /** Greater than the operand. */
    GREATER,
    /** Less than the operand. */
    LESS,
    /** Not equal. */
    NOT_EQUAL
  }

  /** Validates non-null fields. */
  public Compare {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(rangeEnd, "rangeEnd");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(result, "result");
    Objects.requireNonNull(value, "value");
  }

  /** Compares the version of {@code key}. */
  public static Compare version(Bytes key, Result result, long version) {
    return new Compare(key, Bytes.EMPTY, Target.VERSION, result, version, Bytes.EMPTY);
  }

  /** Compares the create revision of {@code key}. */
  public static Compare createRevision(Bytes key, Result result, long rev) {
    return new Compare(key, Bytes.EMPTY, Target.CREATE, result, rev, Bytes.EMPTY);
  }

  /** Compares the mod revision of {@code key}. */
  public static Compare modRevision(Bytes key, Result result, long rev) {
    return new Compare(key, Bytes.EMPTY, Target.MOD, result, rev, Bytes.EMPTY);
  }

  /** Compares the value of {@code key}. */
  public static Compare value(Bytes key, Result result, Bytes value) {
    return new Compare(key, Bytes.EMPTY, Target.VALUE, result, 0, value);
  }

  /** Compares the lease of {@code key}. */
  public static Compare lease(Bytes key, Result result, long lease) {
    return new Compare(key, Bytes.EMPTY, Target.LEASE, result, lease, Bytes.EMPTY);
  }

  /** This compare applied to every key of {@code [key, end)}. */
  public Compare overRange(Bytes end) {
    return new Compare(key, end, target, result, number, value);
  }

  /** Whether {@code kv} (null: missing key) satisfies this compare, per etcd's compareKV. */
  boolean matches(KeyValue kv) {
    int c;
    if (kv == null) {
      if (target == Target.VALUE) {
        return false;
      }
      kv = new KeyValue(key, 0, 0, 0, Bytes.EMPTY, 0);
    }
    switch (target) {
      case VERSION -> c = Long.compare(kv.version(), number);
      case CREATE -> c = Long.compare(kv.createRevision(), number);
      case MOD -> c = Long.compare(kv.modRevision(), number);
      case LEASE -> c = Long.compare(kv.lease(), number);
      case VALUE -> c = kv.value().compareTo(value);
      default -> throw new AssertionError(target);
    }
    return switch (result) {
      case EQUAL -> c == 0;
      case NOT_EQUAL -> c != 0;
      case GREATER -> c > 0;
      case LESS -> c < 0;
    };
  }
}

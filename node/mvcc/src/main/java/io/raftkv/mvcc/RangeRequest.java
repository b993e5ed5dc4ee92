package io.raftkv.mvcc;

import java.util.Objects;

/**
 * A read of one key or a key range, with etcd's {@code RangeRequest} conventions.
 *
 * <p>Range: an empty {@code rangeEnd} reads the single {@code key}; {@code rangeEnd = "\0"} reads
 * every key {@code >= key}; {@code key = "\0"} with {@code rangeEnd = "\0"} reads all keys;
 * otherwise the half-open range {@code [key, rangeEnd)} (empty when {@code rangeEnd <= key}).
 *
 * @param key first key, must not be empty
 * @param rangeEnd end of the range (exclusive), see above
 * @param revision revision to read at; 0 (or negative) reads the current revision
 * @param limit maximum number of keys returned, 0 for no limit
 * @param countOnly return only the count, no keys
 * @param keysOnly return keys without values
 * @param sortOrder sort order of the result
 * @param sortTarget field the result is sorted by
 * @param minModRevision drop keys with a lower mod revision (0: no bound)
 * @param maxModRevision drop keys with a higher mod revision (0: no bound)
 * @param minCreateRevision drop keys with a lower create revision (0: no bound)
 * @param maxCreateRevision drop keys with a higher create revision (0: no bound)
 */
public record RangeRequest(
    Bytes key,
    Bytes rangeEnd,
    long revision,
    long limit,
    boolean countOnly,
    boolean keysOnly,
    SortOrder sortOrder,
    SortTarget sortTarget,
    long minModRevision,
    long maxModRevision,
    long minCreateRevision,
    long maxCreateRevision)
    implements RequestOp {

  /** Sort order, as etcd's {@code RangeRequest.SortOrder}. */
  public enum SortOrder {
    /** Key order (ascending), unless the sort target is not KEY, then ascending by target. */
    NONE,
    /** Ascending by the sort target; ties keep key order. */
    ASCEND,
    /** Descending by the sort target; ties keep key order. */
    DESCEND
  }

  /** Sort target, as etcd's {@code RangeRequest.SortTarget}. */
  public enum SortTarget {
    /** The key bytes. */
    KEY,
    /** The version. */
    VERSION,
    /** The create revision. */
    CREATE,
    /** The mod revision. */
    MOD,
    /** The value bytes. */
    VALUE
  }

  /** Validates non-null fields. */
  public RangeRequest {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(rangeEnd, "rangeEnd");
    Objects.requireNonNull(sortOrder, "sortOrder");
    Objects.requireNonNull(sortTarget, "sortTarget");
  }

  /** Reads the single key {@code key} at the current revision. */
  public static RangeRequest key(Bytes key) {
    return range(key, Bytes.EMPTY);
  }

  /** Reads {@code [key, rangeEnd)} at the current revision (see the class conventions). */
  public static RangeRequest range(Bytes key, Bytes rangeEnd) {
    return new RangeRequest(
        key, rangeEnd, 0, 0, false, false, SortOrder.NONE, SortTarget.KEY, 0, 0, 0, 0);
  }

  /** Reads every key starting with {@code prefix}. */
  public static RangeRequest prefix(Bytes prefix) {
    return range(prefix, prefix.prefixEnd());
  }

  /** Reads all keys. */
  public static RangeRequest all() {
    return range(Bytes.NUL, Bytes.NUL);
  }

  /** This request read at {@code rev} (0 = current). */
  public RangeRequest atRevision(long rev) {
    return new RangeRequest(key, rangeEnd, rev, limit, countOnly, keysOnly, sortOrder,
        sortTarget, minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
  }

  /** This request returning at most {@code n} keys (0 = all). */
  public RangeRequest withLimit(long n) {
    return new RangeRequest(key, rangeEnd, revision, n, countOnly, keysOnly, sortOrder,
        sortTarget, minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
  }

  /** This request returning only the count. */
  public RangeRequest withCountOnly(boolean on) {
    return new RangeRequest(key, rangeEnd, revision, limit, on, keysOnly, sortOrder,
        sortTarget, minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
  }

  /** This request returning keys without values. */
  public RangeRequest withKeysOnly(boolean on) {
    return new RangeRequest(key, rangeEnd, revision, limit, countOnly, on, sortOrder,
        sortTarget, minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
  }

  /** This request sorted by {@code target} in {@code order}. */
  public RangeRequest sortedBy(SortTarget target, SortOrder order) {
    return new RangeRequest(key, rangeEnd, revision, limit, countOnly, keysOnly, order,
        target, minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
  }

  /** This request keeping only keys with {@code min <= modRevision <= max} (0: unbounded). */
  public RangeRequest withModRevisionBounds(long min, long max) {
    return new RangeRequest(key, rangeEnd, revision, limit, countOnly, keysOnly, sortOrder,
        sortTarget, min, max, minCreateRevision, maxCreateRevision);
  }

  /** This request keeping only keys with {@code min <= createRevision <= max} (0: unbounded). */
  public RangeRequest withCreateRevisionBounds(long min, long max) {
    return new RangeRequest(key, rangeEnd, revision, limit, countOnly, keysOnly, sortOrder,
        sortTarget, minModRevision, maxModRevision, min, max);
  }
}

package io.raftkv.mvcc;

import java.util.Objects;

/**
 * A delete of one key or a key range, as etcd's {@code DeleteRangeRequest}; the range
 * conventions are those of {@link RangeRequest}.
 *
 * @param key first key, must not be empty
 * @param rangeEnd end of the range, see {@link RangeRequest}
 * @param prevKv return the deleted key-values
 */
public record DeleteRangeRequest(Bytes key, Bytes rangeEnd, boolean prevKv)
    implements RequestOp {

  /** Validates non-null fields. */
  public DeleteRangeRequest {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(rangeEnd, "rangeEnd");
  }

  /** Deletes the single key {@code key}. */
  public static DeleteRangeRequest key(Bytes key) {
    return new DeleteRangeRequest(key, Bytes.EMPTY, false);
  }

  /** Deletes {@code [key, rangeEnd)}. */
  public static DeleteRangeRequest range(Bytes key, Bytes rangeEnd) {
    return new DeleteRangeRequest(key, rangeEnd, false);
  }

  /** This delete, returning the deleted key-values. */
  public DeleteRangeRequest withPrevKv() {
    return new DeleteRangeRequest(key, rangeEnd, true);
  }
}

package io.raftkv.mvcc;

import java.util.List;

/**
 * The result of a {@link RangeRequest}, as etcd's {@code RangeResponse}.
 *
 * @param revision header revision: the store's current revision when the read was served (inside
 *     a transaction: the transaction's revision)
 * @param kvs matching key-values after filters, sort and limit (empty when count only)
 * @param more whether the limit cut off further matching keys
 * @param count number of keys in the range at the read revision, before filters and limit (as
 *     etcd, min/max revision filters do not reduce the count)
 */
public record RangeResponse(long revision, List<KeyValue> kvs, boolean more, long count)
    implements ResponseOp {

  /** Copies the list. */
  public RangeResponse {
    kvs = List.copyOf(kvs);
  }
}

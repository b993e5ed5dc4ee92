package io.raftkv.mvcc;

import java.util.List;

/**
 * The result of a {@link DeleteRangeRequest}.
 *
 * @param revision header revision: the new revision, or the unchanged current revision when
 *     nothing was deleted
 * @param deleted number of keys deleted
 * @param prevKvs the deleted key-values in key order, when asked for
 */
public record DeleteRangeResponse(long revision, long deleted, List<KeyValue> prevKvs)
    implements ResponseOp {

  /** Copies the list. */
  public DeleteRangeResponse {
    prevKvs = List.copyOf(prevKvs);
  }
}

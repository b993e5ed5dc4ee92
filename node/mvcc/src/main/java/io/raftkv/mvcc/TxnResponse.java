package io.raftkv.mvcc;

import java.util.List;

/**
 * The result of a {@link TxnRequest}.
 *
 * @param revision header revision: the transaction's revision, or the unchanged current revision
 *     when it changed nothing; nested responses carry the same revision
 * @param succeeded whether every compare held (the success branch ran)
 * @param responses one response per op of the branch that ran, in order
 */
public record TxnResponse(long revision, boolean succeeded, List<ResponseOp> responses)
    implements ResponseOp {

  /** Copies the list. */
  public TxnResponse {
    responses = List.copyOf(responses);
  }
}

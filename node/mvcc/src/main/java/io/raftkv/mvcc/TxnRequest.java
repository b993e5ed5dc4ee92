package io.raftkv.mvcc;

import java.util.List;

/**
 * An atomic transaction, as etcd's {@code TxnRequest}: if every compare holds, the success ops
 * run, else the failure ops, all at one revision.
 *
 * <p>etcd's rules: all compares, including those of nested transactions on the chosen path, are
 * evaluated against the state before the transaction; ops run in order and later ops see earlier
 * writes; one branch may not put a key twice nor put a key inside a range it deletes, nested
 * transactions included (a nested transaction's success and failure branches may put the same
 * key), failing DUPLICATE_KEY; etcd's interval check treats a delete up to {@code "\0"} as
 * covering only its start key, and so does this store. A transaction that changes nothing does
 * not create a revision. Put, lease and range-revision checks of the chosen path run before any
 * op, so a refused transaction changes nothing.
 *
 * @param compare the guards
 * @param success ops run when every guard holds
 * @param failure ops run otherwise
 */
public record TxnRequest(List<Compare> compare, List<RequestOp> success, List<RequestOp> failure)
    implements RequestOp {

  /** Copies the lists. */
  public TxnRequest {
    compare = List.copyOf(compare);
    success = List.copyOf(success);
    failure = List.copyOf(failure);
  }
}

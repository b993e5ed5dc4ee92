package io.raftkv.mvcc;

/**
 * The result of one {@link RequestOp}, as etcd's {@code ResponseOp}. Every response carries the
 * store revision of its header.
 */
public sealed interface ResponseOp
    permits RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse {

  /** The header revision: the store revision after the operation (or the read revision). */
  long revision();
}

package io.raftkv.mvcc;

/** One operation of a transaction branch, as etcd's {@code RequestOp}. */
public sealed interface RequestOp
    permits RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest {}

/**
 * The MVCC key-value state machine with etcd v3 semantics on RocksDB: what each Raft node applies
 * committed entries to.
 *
 * <p>Contract: {@link io.raftkv.mvcc.KvStore} is written by one applier thread, in Raft log order,
 * each mutation carrying its log index and made durable atomically with that index (so applying
 * is exactly-once across crashes); any number of threads read concurrently, each read at one
 * fixed revision. Requests and results are plain records mirroring etcd's KV messages; refusals
 * are {@link io.raftkv.mvcc.MvccException}s with etcd's error text. Lease expiry is decided
 * elsewhere (the leader); this package only stores leases and their checkpoints. No gRPC or
 * protobuf here.
 */
package io.raftkv.mvcc;

/**
 * The raftkv node process: one driver thread per node runs the Ready contract against the
 * durable log and the MVCC store; gRPC services expose the etcd v3 API; a gRPC peer transport
 * carries Raft messages.
 */
package io.raftkv.server;

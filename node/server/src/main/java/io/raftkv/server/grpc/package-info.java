/**
 * The gRPC services raftkv serves on its client URL: etcd's KV, Cluster and Maintenance (and, until
 * the watch/lease issue lands, Watch and Lease answering UNIMPLEMENTED), grpc.health.v1, and
 * raftkv's own Membership service. Handlers never block the event loop: writes complete when the
 * driver thread applies them, reads run on a worker pool after their ReadIndex round.
 */
package io.raftkv.server.grpc;

/**
 * The gRPC services raftkv serves on its client URL: etcd's KV, Cluster, Maintenance and Lease
 * (and, until the watch issue lands, Watch answering UNIMPLEMENTED), grpc.health.v1, and raftkv's
 * own Membership and LeaseLeader (member-to-leader) services. Handlers never block the event loop:
 * writes complete when the driver thread applies them, reads run on a worker pool after their
 * ReadIndex round, keep-alives and time-to-live queries are answered by the leader's lessor or
 * forwarded to it.
 */
package io.raftkv.server.grpc;

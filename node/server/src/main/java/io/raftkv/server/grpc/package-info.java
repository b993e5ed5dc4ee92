/**
 * The gRPC services raftkv serves on its client URL: etcd's KV, Watch, Lease, Cluster and
 * Maintenance, grpc.health.v1, and raftkv's own Membership and LeaseLeader (member-to-leader)
 * services. Every service binds through {@link io.raftkv.server.grpc.MalformedRequests} (etcd's
 * answer to a body that is not protobuf). Handlers never block the event loop:
 * writes complete when the driver thread applies them, reads run on a worker pool after their
 * ReadIndex round, keep-alives and time-to-live queries are answered by the leader's lessor or
 * forwarded to it.
 */
package io.raftkv.server.grpc;

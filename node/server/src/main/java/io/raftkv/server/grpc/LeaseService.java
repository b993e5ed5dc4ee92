package io.raftkv.server.grpc;

import io.grpc.Status;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.raftkv.mvcc.Lease;
import io.raftkv.server.api.EtcdCodec;
import io.raftkv.server.api.EtcdErrors;
import io.raftkv.server.api.etcd.LeaseGrantRequest;
import io.raftkv.server.api.etcd.LeaseGrantResponse;
import io.raftkv.server.api.etcd.LeaseGrpc;
import io.raftkv.server.api.etcd.LeaseKeepAliveRequest;
import io.raftkv.server.api.etcd.LeaseKeepAliveResponse;
import io.raftkv.server.api.etcd.LeaseLeasesRequest;
import io.raftkv.server.api.etcd.LeaseLeasesResponse;
import io.raftkv.server.api.etcd.LeaseRevokeRequest;
import io.raftkv.server.api.etcd.LeaseRevokeResponse;
import io.raftkv.server.api.etcd.LeaseStatus;
import io.raftkv.server.api.etcd.LeaseTimeToLiveRequest;
import io.raftkv.server.api.etcd.LeaseTimeToLiveResponse;
import io.raftkv.server.api.internal.InternalRequest;
import io.raftkv.server.node.NodeRuntime;
import jakarta.inject.Inject;

import java.util.concurrent.CompletableFuture;

/**
 * etcd's Lease service. Grant and revoke go through the Raft log (every replica creates or
 * deletes the lease, and a revoke deletes the attached keys in one revision); keep-alive and
 * time-to-live are answered by the leader's lessor (forwarded from other members); the lease list
 * is read from the local store, as etcd reads its local lessor.
 */
@GrpcService
public class LeaseService extends LeaseGrpc.LeaseImplBase {

    /** Binds the service with malformed request bodies refused as etcd refuses them. */
    @Override
    public ServerServiceDefinition bindService() {
        return MalformedRequests.guard(super.bindService());
    }
    /** etcd's lease.MaxLeaseTTL: larger TTLs are refused with "too large lease TTL". */
    static final long MAX_LEASE_TTL_SECONDS = 9_000_000_000L;

    @Inject
    NodeRuntime node;

    @Override
    public void leaseGrant(LeaseGrantRequest req, StreamObserver<LeaseGrantResponse> obs) {
        Replies.handle(obs, () -> {
            if (req.getTTL() > MAX_LEASE_TTL_SECONDS) {
                throw EtcdErrors.LEASE_TTL_TOO_LARGE.exception();
            }
            if (req.getID() < 0) {
                throw Status.INVALID_ARGUMENT.withDescription("raftkv: lease ID must be positive").asRuntimeException();
            }
            // etcd raises a TTL below the minimum (a lease must outlive a leader election).
            long ttl = Math.max(req.getTTL(), node.minLeaseTtlSeconds());
            long id = req.getID() != 0 ? req.getID() : newLeaseId();
            LeaseGrantRequest grant = LeaseGrantRequest.newBuilder().setID(id).setTTL(ttl).build();
            return node.propose(InternalRequest.newBuilder().setLeaseGrant(grant), req.getSerializedSize())
                    .thenApply(r -> EtcdCodec.leaseGrant((Lease) r, node.header(0)));
        });
    }

    /** A positive id no lease here has (etcd: the request id generator, top bit cleared). */
    private long newLeaseId() {
        while (true) {
            long id = node.driver().nextRequestId() & Long.MAX_VALUE;
            if (id != 0 && node.machine().store().leases().stream().noneMatch(l -> l.id() == id)) {
                return id;
            }
        }
    }

    @Override
    public void leaseRevoke(LeaseRevokeRequest req, StreamObserver<LeaseRevokeResponse> obs) {
        Replies.handle(obs, () -> node.propose(InternalRequest.newBuilder().setLeaseRevoke(req), req.getSerializedSize())
                .thenApply(r -> EtcdCodec.toProto((io.raftkv.mvcc.LeaseRevokeResponse) r, node.header(0))));
    }

    @Override
    public void leaseTimeToLive(LeaseTimeToLiveRequest req, StreamObserver<LeaseTimeToLiveResponse> obs) {
        Replies.handle(obs, () -> LeaderLeases.timeToLive(node, req));
    }

    @Override
    public void leaseLeases(LeaseLeasesRequest req, StreamObserver<LeaseLeasesResponse> obs) {
        Replies.handle(obs, () -> {
            LeaseLeasesResponse.Builder b = LeaseLeasesResponse.newBuilder().setHeader(node.header(0));
            for (Lease l : node.machine().store().leases()) {
                b.addLeases(LeaseStatus.newBuilder().setID(l.id()));
            }
            return CompletableFuture.completedFuture(b.build());
        });
    }

    /**
     * One keep-alive stream: each request renews its lease on the leader and is answered in
     * order with the granted TTL, or TTL 0 for a lease that does not exist (etcd answers so rather
     * than failing the stream). Other failures end the stream with etcd's error; clients reopen it.
     * A stream opened WithRequireLeader also ends with "no leader" once this member has lost the
     * cluster ({@link NodeRuntime#onLeaderLoss}), as etcd ends every such stream.
     */
    @Override
    public StreamObserver<LeaseKeepAliveRequest> leaseKeepAlive(StreamObserver<LeaseKeepAliveResponse> obs) {
        KeepAliveStream stream = new KeepAliveStream(obs);
        if (RequireLeader.required()) {
            stream.unregister = node.onLeaderLoss(() -> stream.fail(EtcdErrors.NO_LEADER.exception()));
        }
        return stream;
    }

    private final class KeepAliveStream implements StreamObserver<LeaseKeepAliveRequest> {
        private final StreamObserver<LeaseKeepAliveResponse> obs;
        private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
        private boolean done;
        private volatile Runnable unregister = () -> { };

        KeepAliveStream(StreamObserver<LeaseKeepAliveResponse> obs) {
            this.obs = obs;
        }

        @Override
        public synchronized void onNext(LeaseKeepAliveRequest req) {
            tail = tail.thenCompose(x -> LeaderLeases.renew(node, req.getID()))
                    .handle((ttl, t) -> {
                        if (t != null) {
                            fail(Replies.toStatus(t));
                            return null;
                        }
                        synchronized (this) {
                            if (!done) {
                                obs.onNext(LeaseKeepAliveResponse.newBuilder().setHeader(node.header(0))
                                        .setID(req.getID()).setTTL(ttl).build());
                            }
                            return null;
                        }
                    });
        }

        /** Ends the stream with {@code error} unless it has ended. */
        synchronized void fail(Throwable error) {
            if (finish()) {
                obs.onError(error);
            }
        }

        /** Marks the stream ended; true if it was not already. */
        private synchronized boolean finish() {
            if (done) {
                return false;
            }
            done = true;
            unregister.run();
            return true;
        }

        @Override
        public synchronized void onError(Throwable t) {
            finish();
        }

        @Override
        public synchronized void onCompleted() {
            tail = tail.whenComplete((x, t) -> {
                if (finish()) {
                    obs.onCompleted();
                }
            });
        }
    }
}

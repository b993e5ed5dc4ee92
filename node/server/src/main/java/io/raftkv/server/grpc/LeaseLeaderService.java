package io.raftkv.server.grpc;

import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.raftkv.server.api.etcd.LeaseKeepAliveRequest;
import io.raftkv.server.api.etcd.LeaseKeepAliveResponse;
import io.raftkv.server.api.etcd.LeaseTimeToLiveRequest;
import io.raftkv.server.api.etcd.LeaseTimeToLiveResponse;
import io.raftkv.server.api.raftkv.LeaseLeaderGrpc;
import io.raftkv.server.node.NodeRuntime;
import jakarta.inject.Inject;

/**
 * raftkv.v1.LeaseLeader: the leader's side of forwarded keep-alives and time-to-live queries.
 * A member that is not the leader answers "etcdserver: not leader" and never forwards again, so
 * a forwarded call cannot loop.
 */
@GrpcService
public class LeaseLeaderService extends LeaseLeaderGrpc.LeaseLeaderImplBase {

    /** Binds the service with malformed request bodies refused as etcd refuses them. */
    @Override
    public ServerServiceDefinition bindService() {
        return MalformedRequests.guard(super.bindService());
    }

    @Inject
    NodeRuntime node;

    @Override
    public void renew(LeaseKeepAliveRequest req, StreamObserver<LeaseKeepAliveResponse> obs) {
        Replies.handle(obs, () -> LeaderLeases.renewOnLeader(node, req.getID())
                .thenApply(ttl -> LeaseKeepAliveResponse.newBuilder().setHeader(node.header(0))
                        .setID(req.getID()).setTTL(ttl).build()));
    }

    @Override
    public void timeToLive(LeaseTimeToLiveRequest req, StreamObserver<LeaseTimeToLiveResponse> obs) {
        Replies.handle(obs, () -> LeaderLeases.timeToLiveOnLeader(node, req));
    }
}

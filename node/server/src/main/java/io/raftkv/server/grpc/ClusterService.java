package io.raftkv.server.grpc;

import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.raftkv.server.api.EtcdErrors;
import io.raftkv.server.api.etcd.ClusterGrpc;
import io.raftkv.server.api.etcd.MemberAddRequest;
import io.raftkv.server.api.etcd.MemberAddResponse;
import io.raftkv.server.api.etcd.MemberListRequest;
import io.raftkv.server.api.etcd.MemberListResponse;
import io.raftkv.server.api.etcd.MemberPromoteRequest;
import io.raftkv.server.api.etcd.MemberPromoteResponse;
import io.raftkv.server.api.etcd.MemberRemoveRequest;
import io.raftkv.server.api.etcd.MemberRemoveResponse;
import io.raftkv.server.api.etcd.MemberUpdateRequest;
import io.raftkv.server.api.etcd.MemberUpdateResponse;
import io.raftkv.server.api.internal.InternalRequest;
import io.raftkv.server.node.Membership;
import io.raftkv.server.node.NodeRuntime;
import jakarta.inject.Inject;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's Cluster service. Every change runs as a joint-consensus configuration change through the
 * Raft log (see {@link Membership}); the reply comes once the change is applied here.
 */
@GrpcService
public class ClusterService extends ClusterGrpc.ClusterImplBase {

    /** Binds the service with malformed request bodies refused as etcd refuses them. */
    @Override
    public ServerServiceDefinition bindService() {
        return MalformedRequests.guard(super.bindService());
    }

    @Inject
    NodeRuntime node;

    @Override
    public void memberAdd(MemberAddRequest req, StreamObserver<MemberAddResponse> obs) {
        Replies.handle(obs, () -> {
            Membership.Change add = req.getIsLearner()
                    ? Membership.Change.addLearner("", req.getPeerURLsList())
                    : Membership.Change.addVoter("", req.getPeerURLsList());
            return node.membership().change(List.of(add)).thenApply(r -> MemberAddResponse.newBuilder()
                    .setHeader(node.header(0)).setMember(r.added().get(0)).addAllMembers(r.members()).build());
        });
    }

    @Override
    public void memberRemove(MemberRemoveRequest req, StreamObserver<MemberRemoveResponse> obs) {
        Replies.handle(obs, () -> node.membership().change(List.of(Membership.Change.remove(req.getID())))
                .thenApply(r -> MemberRemoveResponse.newBuilder().setHeader(node.header(0))
                        .addAllMembers(r.members()).build()));
    }

    @Override
    public void memberPromote(MemberPromoteRequest req, StreamObserver<MemberPromoteResponse> obs) {
        Replies.handle(obs, () -> node.membership().change(List.of(Membership.Change.promote(req.getID())))
                .thenApply(r -> MemberPromoteResponse.newBuilder().setHeader(node.header(0))
                        .addAllMembers(r.members()).build())
                // Only the leader knows whether the learner has caught up: a follower forwards.
                .exceptionallyCompose(t -> Replies.isNotLeader(t) ? node.forwardToLeader(ClusterGrpc.getMemberPromoteMethod(), req)
                        : CompletableFuture.failedFuture(t)));
    }

    @Override
    public void memberUpdate(MemberUpdateRequest req, StreamObserver<MemberUpdateResponse> obs) {
        Replies.handle(obs, () -> {
            if (!node.machine().members().snapshot().containsKey(req.getID())) {
                throw EtcdErrors.MEMBER_NOT_FOUND.exception();
            }
            Membership.validateUrls(req.getPeerURLsList());
            return node.propose(InternalRequest.newBuilder().setMemberUpdate(req), req.getSerializedSize())
                    .thenApply(r -> MemberUpdateResponse.newBuilder().setHeader(node.header(0))
                            .addAllMembers(node.membership().list()).build());
        });
    }

    @Override
    public void memberList(MemberListRequest req, StreamObserver<MemberListResponse> obs) {
        Replies.handle(obs, () -> {
            CompletableFuture<Long> ready = req.getLinearizable()
                    ? node.driver().readIndex() : CompletableFuture.completedFuture(0L);
            return node.timeout(ready.thenApply(i -> MemberListResponse.newBuilder().setHeader(node.header(0))
                    .addAllMembers(node.membership().list()).build()));
        });
    }
}

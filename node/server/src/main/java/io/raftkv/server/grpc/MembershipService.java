package io.raftkv.server.grpc;

import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.raftkv.server.api.raftkv.ChangeMembersRequest;
import io.raftkv.server.api.raftkv.ChangeMembersResponse;
import io.raftkv.server.api.raftkv.MemberChange;
import io.raftkv.server.api.raftkv.MembershipGrpc;
import io.raftkv.server.node.Membership;
import io.raftkv.server.node.NodeRuntime;
import jakarta.inject.Inject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * raftkv.v1.Membership: several adds, removals and promotions in one joint configuration change,
 * for example replacing a failed member atomically (remove it and add a fresh one).
 */
@GrpcService
public class MembershipService extends MembershipGrpc.MembershipImplBase {

    /** Binds the service with malformed request bodies refused as etcd refuses them. */
    @Override
    public ServerServiceDefinition bindService() {
        return MalformedRequests.guard(super.bindService());
    }

    @Inject
    NodeRuntime node;

    @Override
    public void changeMembers(ChangeMembersRequest req, StreamObserver<ChangeMembersResponse> obs) {
        Replies.handle(obs, () -> {
            List<Membership.Change> changes = new ArrayList<>();
            for (MemberChange c : req.getChangesList()) {
                changes.add(switch (c.getKind()) {
                    case ADD_VOTER -> c.getId() != 0 ? Membership.Change.promote(c.getId())
                            : Membership.Change.addVoter(c.getName(), c.getPeerUrlsList());
                    case ADD_LEARNER -> Membership.Change.addLearner(c.getName(), c.getPeerUrlsList());
                    case REMOVE -> Membership.Change.remove(c.getId());
                    default -> throw new IllegalArgumentException("unknown member change kind " + c.getKind());
                });
            }
            return node.membership().change(changes).thenApply(r -> ChangeMembersResponse.newBuilder()
                            .setHeader(node.header(0)).addAllAdded(r.added()).addAllMembers(r.members()).build())
                    // promotions are decided by the leader (is the learner caught up?): a follower forwards
                    .exceptionallyCompose(t -> Replies.isNotLeader(t)
                            ? node.forwardToLeader(MembershipGrpc.getChangeMembersMethod(), req)
                            : CompletableFuture.failedFuture(t));
        });
    }
}

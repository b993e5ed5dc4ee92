package io.raftkv.server.grpc;

import io.raftkv.mvcc.LeaseTimeToLive;
import io.raftkv.mvcc.MvccException;
import io.raftkv.server.api.EtcdCodec;
import io.raftkv.server.api.EtcdErrors;
import io.raftkv.server.api.etcd.LeaseKeepAliveRequest;
import io.raftkv.server.api.etcd.LeaseTimeToLiveRequest;
import io.raftkv.server.api.etcd.LeaseTimeToLiveResponse;
import io.raftkv.server.api.raftkv.LeaseLeaderGrpc;
import io.raftkv.server.lease.Lessor;
import io.raftkv.server.node.NodeRuntime;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive and time-to-live, answered by the leader's lessor: locally on the leader, forwarded
 * to it from any other member (etcd's LeaseRenew and LeaseTimeToLive do the same). A lease the
 * leader does not know may have been committed but not yet applied there, so the leader first
 * waits until it has applied everything committed (a ReadIndex round), as etcd 3.5 waits for its
 * applied index, before it answers "not found".
 */
final class LeaderLeases {
    private LeaderLeases() {
    }

    /** Renews lease {@code id} wherever the leader is; completes with its TTL, 0 if not found. */
    static CompletableFuture<Long> renew(NodeRuntime node, long id) {
        if (!node.lessor().isPrimary() && node.driver().status().leader() != node.memberId()) {
            return node.forwardToLeader(LeaseLeaderGrpc.getRenewMethod(),
                    LeaseKeepAliveRequest.newBuilder().setID(id).build()).thenApply(r -> r.getTTL());
        }
        return renewOnLeader(node, id);
    }

    /** Renews on this member's lessor; fails "not leader" unless it is the leader. */
    static CompletableFuture<Long> renewOnLeader(NodeRuntime node, long id) {
        return onLeader(node, () -> {
            OptionalLong ttl = node.lessor().renew(id);
            return ttl.isPresent() ? Optional.of(ttl.getAsLong()) : Optional.empty();
        }, 0L);
    }

    /** The time-to-live answer from the leader's lessor, wherever the leader is. */
    static CompletableFuture<LeaseTimeToLiveResponse> timeToLive(NodeRuntime node, LeaseTimeToLiveRequest req) {
        if (!node.lessor().isPrimary() && node.driver().status().leader() != node.memberId()) {
            return node.forwardToLeader(LeaseLeaderGrpc.getTimeToLiveMethod(), req)
                    .thenApply(r -> r.toBuilder().setHeader(node.header(r.getHeader().getRevision())).build());
        }
        return timeToLiveOnLeader(node, req);
    }

    /** The time-to-live answer of this member's lessor; fails "not leader" unless it is the leader. */
    static CompletableFuture<LeaseTimeToLiveResponse> timeToLiveOnLeader(NodeRuntime node, LeaseTimeToLiveRequest req) {
        return onLeader(node, () -> {
            OptionalLong remaining = node.lessor().remainingNanos(req.getID());
            if (remaining.isEmpty()) {
                return Optional.empty();
            }
            LeaseTimeToLive ttl;
            try {
                ttl = node.machine().store().leaseTimeToLive(req.getID(), req.getKeys());
            } catch (MvccException e) {
                return Optional.empty();
            }
            // etcd reports int64(Remaining().Seconds()): whole seconds, truncated.
            long seconds = remaining.getAsLong() / TimeUnit.SECONDS.toNanos(1);
            return Optional.of(EtcdCodec.toProto(ttl, seconds, node.header(0)));
        }, EtcdCodec.leaseTimeToLiveNotFound(req.getID(), node.header(0)));
    }

    /**
     * Runs {@code local} on the primary lessor; if it finds nothing, or the lessor is not primary
     * yet although this member leads, runs it again once everything committed is applied here.
     */
    private static <T> CompletableFuture<T> onLeader(NodeRuntime node, java.util.function.Supplier<Optional<T>> local,
                                                     T missing) {
        try {
            Optional<T> now = local.get();
            if (now.isPresent()) {
                return CompletableFuture.completedFuture(now.get());
            }
        } catch (Lessor.NotPrimaryException e) {
            if (node.driver().status().leader() != node.memberId()) {
                return CompletableFuture.failedFuture(EtcdErrors.NOT_LEADER.exception());
            }
        }
        return node.timeout(node.driver().readIndex().thenApplyAsync(i -> {
            try {
                return local.get().orElse(missing);
            } catch (Lessor.NotPrimaryException e) {
                throw EtcdErrors.NOT_LEADER.exception();
            }
        }, node.readExecutor()));
    }
}

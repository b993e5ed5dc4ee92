package io.raftkv.operator.member;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.raftkv.server.api.etcd.ClusterGrpc;
import io.raftkv.server.api.etcd.MaintenanceGrpc;
import io.raftkv.server.api.etcd.MemberAddRequest;
import io.raftkv.server.api.etcd.MemberListRequest;
import io.raftkv.server.api.etcd.MemberPromoteRequest;
import io.raftkv.server.api.etcd.MemberRemoveRequest;
import io.raftkv.server.api.etcd.MoveLeaderRequest;
import io.raftkv.server.api.etcd.StatusRequest;
import io.raftkv.server.api.etcd.StatusResponse;
import io.raftkv.server.api.raftkv.ChangeMembersRequest;
import io.raftkv.server.api.raftkv.ChangeMembersResponse;
import io.raftkv.server.api.raftkv.MemberChange;
import io.raftkv.server.api.raftkv.MembershipGrpc;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * {@link MemberClient} over gRPC (plaintext HTTP/2), one cached channel per endpoint. Reads go to
 * the first endpoint that answers; membership changes and MoveLeader go to the leader, found by
 * asking the nodes' Status. Thread-safe.
 */
public final class GrpcMemberClient implements MemberClient {
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final Duration readDeadline;
    private final Duration changeDeadline;

    /** A client with the given deadlines for reads (list, status) and for changes. */
    public GrpcMemberClient(Duration readDeadline, Duration changeDeadline) {
        this.readDeadline = readDeadline;
        this.changeDeadline = changeDeadline;
    }

    /** A client with 3 s read and 20 s change deadlines. */
    public GrpcMemberClient() {
        this(Duration.ofSeconds(3), Duration.ofSeconds(20));
    }

    @Override
    public List<Member> memberList(List<String> endpoints) {
        return first(endpoints, "MemberList", ch -> ClusterGrpc.newBlockingStub(ch)
                .withDeadlineAfter(readDeadline.toMillis(), TimeUnit.MILLISECONDS)
                .memberList(MemberListRequest.newBuilder().setLinearizable(true).build())
                .getMembersList().stream().map(GrpcMemberClient::member).toList());
    }

    @Override
    public NodeStatus status(String endpoint) {
        try {
            StatusResponse r = MaintenanceGrpc.newBlockingStub(channel(endpoint))
                    .withDeadlineAfter(readDeadline.toMillis(), TimeUnit.MILLISECONDS)
                    .status(StatusRequest.getDefaultInstance());
            return new NodeStatus(r.getHeader().getMemberId(), r.getLeader(), r.getRaftAppliedIndex(), r.getIsLearner(),
                    r.getVersion());
        } catch (StatusRuntimeException e) {
            throw new MemberClientException("Status at " + endpoint + ": " + e.getStatus(), e);
        }
    }

    @Override
    public Member addLearner(List<String> endpoints, String peerUrl) {
        return atLeader(endpoints, "MemberAdd", ch -> member(ClusterGrpc.newBlockingStub(ch)
                .withDeadlineAfter(changeDeadline.toMillis(), TimeUnit.MILLISECONDS)
                .memberAdd(MemberAddRequest.newBuilder().addPeerURLs(peerUrl).setIsLearner(true).build()).getMember()));
    }

    @Override
    public void promote(List<String> endpoints, long id) {
        atLeader(endpoints, "MemberPromote", ch -> ClusterGrpc.newBlockingStub(ch)
                .withDeadlineAfter(changeDeadline.toMillis(), TimeUnit.MILLISECONDS)
                .memberPromote(MemberPromoteRequest.newBuilder().setID(id).build()));
    }

    @Override
    public void remove(List<String> endpoints, long id) {
        atLeader(endpoints, "MemberRemove", ch -> ClusterGrpc.newBlockingStub(ch)
                .withDeadlineAfter(changeDeadline.toMillis(), TimeUnit.MILLISECONDS)
                .memberRemove(MemberRemoveRequest.newBuilder().setID(id).build()));
    }

    @Override
    public Member replace(List<String> endpoints, long oldId, String name, String peerUrl) {
        ChangeMembersRequest req = ChangeMembersRequest.newBuilder()
                .addChanges(MemberChange.newBuilder().setKind(MemberChange.Kind.REMOVE).setId(oldId))
                .addChanges(MemberChange.newBuilder().setKind(MemberChange.Kind.ADD_VOTER).setName(name)
                        .addPeerUrls(peerUrl))
                .build();
        ChangeMembersResponse r = atLeader(endpoints, "ChangeMembers", ch -> MembershipGrpc.newBlockingStub(ch)
                .withDeadlineAfter(changeDeadline.toMillis(), TimeUnit.MILLISECONDS).changeMembers(req));
        if (r.getAddedCount() != 1) {
            throw new MemberClientException("ChangeMembers added " + r.getAddedCount() + " members, expected 1");
        }
        return member(r.getAdded(0));
    }

    @Override
    public void moveLeader(List<String> endpoints, long toId) {
        atLeader(endpoints, "MoveLeader", ch -> MaintenanceGrpc.newBlockingStub(ch)
                .withDeadlineAfter(changeDeadline.toMillis(), TimeUnit.MILLISECONDS)
                .moveLeader(MoveLeaderRequest.newBuilder().setTargetID(toId).build()));
    }

    @Override
    public void close() {
        for (ManagedChannel ch : channels.values()) {
            ch.shutdownNow();
        }
        channels.clear();
    }

    /** The endpoint of the leader: the one whose Status reports itself as leader. */
    private String leaderEndpoint(List<String> endpoints) {
        List<String> errors = new ArrayList<>();
        for (String e : endpoints) {
            try {
                NodeStatus s = status(e);
                if (s.leaderId() != 0 && s.leaderId() == s.memberId()) {
                    return e;
                }
            } catch (MemberClientException ex) {
                errors.add(ex.getMessage());
            }
        }
        throw new MemberClientException("no leader among " + endpoints + (errors.isEmpty() ? "" : ": " + errors));
    }

    private <T> T atLeader(List<String> endpoints, String call, Function<ManagedChannel, T> rpc) {
        String leader = leaderEndpoint(endpoints);
        try {
            return rpc.apply(channel(leader));
        } catch (StatusRuntimeException e) {
            throw new MemberClientException(call + " at " + leader + ": " + e.getStatus(), e);
        }
    }

    private <T> T first(List<String> endpoints, String call, Function<ManagedChannel, T> rpc) {
        List<String> errors = new ArrayList<>();
        for (String e : endpoints) {
            try {
                return rpc.apply(channel(e));
            } catch (StatusRuntimeException ex) {
                errors.add(e + ": " + ex.getStatus());
            }
        }
        throw new MemberClientException(call + " failed at every endpoint: " + errors);
    }

    private ManagedChannel channel(String endpoint) {
        return channels.computeIfAbsent(endpoint, e -> {
            URI u = URI.create(e);
            return NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext().build();
        });
    }

    private static Member member(io.raftkv.server.api.etcd.Member m) {
        return new Member(m.getID(), m.getName(), m.getPeerURLsList(), m.getClientURLsList(), m.getIsLearner());
    }
}

package io.raftkv.server.node;

import io.raftkv.raft.ConfChange;
import io.raftkv.raft.ConfState;
import io.raftkv.raft.Progress;
import io.raftkv.raft.Role;
import io.raftkv.server.api.EtcdErrors;
import io.raftkv.server.api.etcd.Member;
import io.raftkv.server.api.internal.MemberTableChange;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Membership changes as etcd's Cluster API and raftkv's Membership service expose them: any
 * number of additions, removals and promotions validated against the member table and applied
 * in one joint-consensus configuration change. The reply comes once the change is applied here.
 */
public final class Membership {
    /** etcd promotes a learner only once its log matches at least this share of the leader's. */
    private static final double LEARNER_READY_PERCENT = 0.9;

    /** One requested change. */
    public record Change(ConfChange.Type type, long id, String name, List<String> peerUrls) {
        /** A new voter with these peer URLs. */
        public static Change addVoter(String name, List<String> peerUrls) {
            return new Change(ConfChange.Type.ADD_VOTER, 0, name, List.copyOf(peerUrls));
        }

        /** A new learner with these peer URLs. */
        public static Change addLearner(String name, List<String> peerUrls) {
            return new Change(ConfChange.Type.ADD_LEARNER, 0, name, List.copyOf(peerUrls));
        }

        /** Promote learner {@code id} to voter. */
        public static Change promote(long id) {
            return new Change(ConfChange.Type.ADD_VOTER, id, "", List.of());
        }

        /** Remove member {@code id}. */
        public static Change remove(long id) {
            return new Change(ConfChange.Type.REMOVE, id, "", List.of());
        }
    }

    /** The outcome: the members added and the member list afterwards. */
    public record Result(List<Member> added, List<Member> members) {
    }

    private final RaftDriver driver;
    private final KvStateMachine machine;
    private final String clusterToken;

    Membership(RaftDriver driver, KvStateMachine machine, String clusterToken) {
        this.driver = driver;
        this.machine = machine;
        this.clusterToken = clusterToken;
    }

    /** The members with their current learner flag, in id order. */
    public List<Member> list() {
        ConfState cs = driver.status().conf();
        List<Member> out = new ArrayList<>();
        for (Member m : machine.members().list()) {
            out.add(m.toBuilder().setIsLearner(cs.learners().contains(m.getID())).build());
        }
        return out;
    }

    /** Validates and proposes {@code changes} as one joint configuration change. */
    public CompletableFuture<Result> change(List<Change> changes) {
        if (changes.isEmpty()) {
            throw new IllegalArgumentException("no member change given");
        }
        Map<Long, Member> table = machine.members().snapshot();
        ConfState cs = driver.status().conf();
        // A member removed by this same change frees its peer URLs, so that a failed member can be
        // replaced by a fresh one at the same address in one joint change.
        Set<Long> removedHere = new HashSet<>();
        changes.stream().filter(c -> c.type() == ConfChange.Type.REMOVE).forEach(c -> removedHere.add(c.id()));
        Set<String> usedUrls = new HashSet<>();
        table.values().stream().filter(m -> !removedHere.contains(m.getID()))
                .forEach(m -> usedUrls.addAll(m.getPeerURLsList()));
        List<ConfChange.Change> raftChanges = new ArrayList<>();
        MemberTableChange.Builder ctx = MemberTableChange.newBuilder();
        List<Member> added = new ArrayList<>();
        List<Long> promotions = new ArrayList<>();
        Set<Long> touched = new HashSet<>();
        for (Change c : changes) {
            if (c.id() == 0) {
                validateUrls(c.peerUrls());
                for (String u : c.peerUrls()) {
                    if (!usedUrls.add(u)) {
                        throw EtcdErrors.PEER_URL_EXISTS.exception();
                    }
                }
                long id = newMemberId(c.peerUrls());
                Member m = Member.newBuilder().setID(id).setName(c.name()).addAllPeerURLs(c.peerUrls())
                        .setIsLearner(c.type() == ConfChange.Type.ADD_LEARNER).build();
                added.add(m);
                ctx.addUpserts(m.toBuilder().clearIsLearner().build());
                raftChanges.add(new ConfChange.Change(c.type(), id));
                continue;
            }
            boolean known = table.containsKey(c.id()) || cs.voters().contains(c.id()) || cs.learners().contains(c.id());
            if (!known) {
                throw EtcdErrors.MEMBER_NOT_FOUND.exception();
            }
            if (!touched.add(c.id())) {
                throw new IllegalArgumentException("member " + Long.toHexString(c.id()) + " changed twice");
            }
            if (c.type() == ConfChange.Type.ADD_VOTER) {
                if (!cs.learners().contains(c.id())) {
                    throw EtcdErrors.MEMBER_NOT_LEARNER.exception();
                }
                promotions.add(c.id());
            } else if (c.type() == ConfChange.Type.REMOVE) {
                ctx.addRemoves(c.id());
            }
            raftChanges.add(new ConfChange.Change(c.type(), c.id()));
        }
        long requestId = driver.nextRequestId();
        ctx.setRequestId(requestId);
        ConfChange cc = new ConfChange(raftChanges, ctx.build().toByteArray());
        CompletableFuture<Void> ready = promotions.isEmpty()
                ? CompletableFuture.completedFuture(null) : checkLearnersReady(promotions);
        return ready.thenCompose(v -> driver.proposeConfChange(requestId, cc))
                .thenApply(r -> new Result(added, list()));
    }

    /** etcd's rule: a learner is promoted only when its log is close to the leader's. */
    private CompletableFuture<Void> checkLearnersReady(List<Long> learners) {
        return driver.call(raft -> {
            if (raft.role() != Role.LEADER) {
                throw EtcdErrors.NOT_LEADER.exception();
            }
            long leaderMatch = raft.lastIndex();
            for (long l : learners) {
                Progress p = raft.progress().get(l);
                if (p == null || p.match() < leaderMatch * LEARNER_READY_PERCENT) {
                    throw EtcdErrors.LEARNER_NOT_READY.exception();
                }
            }
            return null;
        });
    }

    /** etcd's URL check: every peer URL is an absolute http(s) URL with host and port. */
    public static void validateUrls(List<String> urls) {
        if (urls.isEmpty()) {
            throw EtcdErrors.MEMBER_BAD_URLS.exception();
        }
        for (String u : urls) {
            try {
                URI uri = URI.create(u);
                if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
                        || uri.getHost() == null || uri.getPort() <= 0) {
                    throw EtcdErrors.MEMBER_BAD_URLS.exception();
                }
            } catch (IllegalArgumentException e) {
                throw EtcdErrors.MEMBER_BAD_URLS.exception();
            }
        }
    }

    private long newMemberId(List<String> peerUrls) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(String.join(",", peerUrls).getBytes(StandardCharsets.UTF_8));
            d.update(clusterToken.getBytes(StandardCharsets.UTF_8));
            d.update(Long.toString(System.nanoTime()).getBytes(StandardCharsets.UTF_8));
            byte[] h = d.digest();
            long id = 0;
            for (int i = 0; i < 8; i++) {
                id = (id << 8) | (h[i] & 0xff);
            }
            return id == 0 ? 1 : id;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

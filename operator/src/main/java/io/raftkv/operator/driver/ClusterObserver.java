package io.raftkv.operator.driver;

import io.raftkv.operator.member.Member;
import io.raftkv.operator.member.MemberClient;
import io.raftkv.operator.member.MemberClientException;
import io.raftkv.operator.member.NodeStatus;
import io.raftkv.operator.plan.Observed;
import io.raftkv.operator.plan.Topology;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Takes one {@link Observed} snapshot: the workload side from {@link Workloads}, the member list and
 * each member's own Status through {@link MemberClient}. A member is healthy when it answers Status
 * as the id the member list gives it and knows a leader. Blocking; not thread-safe.
 */
public final class ClusterObserver {
    private final Topology topology;
    private final Workloads workloads;
    private final MemberClient client;
    private final Clock clock;

    /** An observer of one cluster. */
    public ClusterObserver(Topology topology, Workloads workloads, MemberClient client, Clock clock) {
        this.topology = topology;
        this.workloads = workloads;
        this.client = client;
        this.clock = clock;
    }

    /** Observes now. Never throws for an unreachable member: that is an observation too. */
    public Observed observe() {
        Instant now = clock.instant();
        List<Workloads.PodState> pods = workloads.pods();
        Map<Integer, Workloads.PodState> podByOrdinal = new HashMap<>();
        List<String> endpoints = new ArrayList<>();
        for (Workloads.PodState p : pods) {
            podByOrdinal.put(p.ordinal(), p);
            endpoints.add(topology.clientUrl(p.ordinal()));
        }
        List<Member> members;
        boolean known;
        try {
            members = endpoints.isEmpty() ? List.of() : client.memberList(endpoints);
            known = !endpoints.isEmpty();
        } catch (MemberClientException e) {
            members = List.of();
            known = false;
        }
        Map<Integer, NodeStatus> statuses = new HashMap<>();
        for (Workloads.PodState p : pods) {
            try {
                statuses.put(p.ordinal(), client.status(topology.clientUrl(p.ordinal())));
            } catch (MemberClientException e) {
                // not answering is observed as "no status"
            }
        }
        long leaderId = leader(statuses);
        List<Observed.MemberView> views = new ArrayList<>();
        for (Member m : members) {
            OptionalInt o = topology.ordinalOf(m.peerUrl());
            NodeStatus s = o.isPresent() ? statuses.get(o.getAsInt()) : null;
            boolean healthy = s != null && s.memberId() == m.id() && s.leaderId() != 0;
            Optional<Instant> since = healthy ? Optional.empty()
                    : Optional.of(o.isPresent() && podByOrdinal.containsKey(o.getAsInt())
                            ? podByOrdinal.get(o.getAsInt()).notReadySince().orElse(now) : now);
            views.add(new Observed.MemberView(m.id(), m.name(), m.peerUrl(), m.learner(), !m.clientUrls().isEmpty(),
                    healthy, healthy ? s.appliedIndex() : 0, healthy ? s.version() : "", since));
        }
        List<Observed.PodView> podViews = new ArrayList<>();
        for (Workloads.PodState p : pods) {
            NodeStatus s = statuses.get(p.ordinal());
            podViews.add(new Observed.PodView(p.ordinal(), p.version(), p.freshDataDir(), s == null ? 0 : s.memberId()));
        }
        return new Observed(workloads.bootstrapState(), workloads.statefulSetReplicas(), podViews,
                workloads.claimOrdinals(), known, views, leaderId, now);
    }

    /** The leader as the leader itself reports it; else the id most members name. */
    private static long leader(Map<Integer, NodeStatus> statuses) {
        Map<Long, Integer> votes = new HashMap<>();
        for (NodeStatus s : statuses.values()) {
            if (s.leaderId() != 0 && s.leaderId() == s.memberId()) {
                return s.leaderId();
            }
            if (s.leaderId() != 0) {
                votes.merge(s.leaderId(), 1, Integer::sum);
            }
        }
        return votes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(0L);
    }
}

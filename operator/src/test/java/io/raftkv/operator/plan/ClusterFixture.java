package io.raftkv.operator.plan;

import io.raftkv.operator.plan.Observed.BootstrapState;
import io.raftkv.operator.plan.Observed.MemberView;
import io.raftkv.operator.plan.Observed.PodView;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/** Builds observations for planner tests: a healthy cluster of n members, then edits. Not thread-safe. */
final class ClusterFixture {
    static final Topology TOPOLOGY = new Topology() {
        @Override
        public String memberName(int ordinal) {
            return "rk-" + ordinal;
        }

        @Override
        public String peerUrl(int ordinal) {
            return "http://rk-" + ordinal + ".rk-peer.ns.svc:2380";
        }

        @Override
        public String clientUrl(int ordinal) {
            return "http://rk-" + ordinal + ".rk-peer.ns.svc:2379";
        }
    };
    static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");

    BootstrapState bootstrap = BootstrapState.EXISTING;
    int statefulSetReplicas;
    final List<PodView> pods = new ArrayList<>();
    final Set<Integer> claims = new TreeSet<>();
    final List<MemberView> members = new ArrayList<>();
    boolean memberListKnown = true;
    long leaderId;

    /** Member id of ordinal {@code i} in fixtures. */
    static long id(int ordinal) {
        return 0x100 + ordinal;
    }

    static ClusterFixture healthy(int n, String version) {
        ClusterFixture f = new ClusterFixture();
        f.statefulSetReplicas = n;
        for (int i = 0; i < n; i++) {
            f.pods.add(new PodView(i, version, false, id(i)));
            f.claims.add(i);
            f.members.add(new MemberView(id(i), "rk-" + i, TOPOLOGY.peerUrl(i), false, true, true, 5000,
                    "3.4.23", Optional.empty()));
        }
        f.leaderId = id(0);
        return f;
    }

    static ClusterFixture empty() {
        ClusterFixture f = new ClusterFixture();
        f.bootstrap = BootstrapState.NONE;
        f.memberListKnown = false;
        return f;
    }

    ClusterFixture member(int ordinal, UnaryOperator<MemberView> edit) {
        for (int i = 0; i < members.size(); i++) {
            if (members.get(i).id() == id(ordinal)) {
                members.set(i, edit.apply(members.get(i)));
            }
        }
        return this;
    }

    ClusterFixture pod(int ordinal, UnaryOperator<PodView> edit) {
        for (int i = 0; i < pods.size(); i++) {
            if (pods.get(i).ordinal() == ordinal) {
                pods.set(i, edit.apply(pods.get(i)));
            }
        }
        return this;
    }

    ClusterFixture unhealthy(int ordinal, Duration forHowLong) {
        return member(ordinal, m -> new MemberView(m.id(), m.name(), m.peerUrl(), m.learner(), m.started(), false, 0, "",
                Optional.of(NOW.minus(forHowLong))));
    }

    ClusterFixture applied(int ordinal, long index) {
        return member(ordinal, m -> new MemberView(m.id(), m.name(), m.peerUrl(), m.learner(), m.started(), m.healthy(),
                index, m.version(), m.unhealthySince()));
    }

    /** Adds ordinal {@code n} as a learner (not yet started, no pod). */
    ClusterFixture withLearner(int ordinal, boolean healthy, long applied) {
        members.add(new MemberView(id(ordinal), "", TOPOLOGY.peerUrl(ordinal), true, healthy, healthy, applied,
                healthy ? "3.4.23" : "", healthy ? Optional.empty() : Optional.of(NOW)));
        return this;
    }

    ClusterFixture withPod(int ordinal, String version) {
        pods.add(new PodView(ordinal, version, false, id(ordinal)));
        claims.add(ordinal);
        return this;
    }

    ClusterFixture withoutMember(int ordinal) {
        members.removeIf(m -> m.id() == id(ordinal));
        return this;
    }

    ClusterFixture withoutPod(int ordinal) {
        pods.removeIf(p -> p.ordinal() == ordinal);
        return this;
    }

    ClusterFixture sts(int replicas) {
        statefulSetReplicas = replicas;
        return this;
    }

    ClusterFixture leader(int ordinal) {
        leaderId = ordinal < 0 ? 0 : id(ordinal);
        return this;
    }

    ClusterFixture bootstrap(BootstrapState s) {
        bootstrap = s;
        return this;
    }

    Observed observed() {
        return new Observed(bootstrap, statefulSetReplicas, pods, claims, memberListKnown, members, leaderId, NOW);
    }
}

package io.raftkv.operator.plan;

import io.raftkv.operator.plan.Observed.MemberView;
import io.raftkv.operator.plan.Observed.PodView;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The pure planner: {@code plan(desired, observed)} returns the one next step. Stateless and
 * thread-safe; the same inputs always give the same step.
 *
 * <p>Order of concerns: quorum first (no action without it), then finishing an unfinished change
 * (StatefulSet size, claims, stale data dirs, a learner), then replacing failed members, then
 * scaling, then upgrading. Each stage refuses (a {@link Step.Wait} with a degraded reason) rather
 * than take an action that would leave fewer than a quorum of healthy voters.
 */
public final class Planner {

    /**
     * A member is caught up when its applied index is at most this many entries behind the leader's
     * (the leader keeps appending under load, so equality is never guaranteed).
     */
    public static final long CATCH_UP_LAG_ENTRIES = 1000;

    private final Topology topology;

    /** A planner for clusters laid out by {@code topology}. */
    public Planner(Topology topology) {
        this.topology = topology;
    }

    /** The next single step towards {@code desired} from {@code observed}. */
    public Step plan(Desired desired, Observed observed) {
        if (!observed.memberListKnown()) {
            return planWithoutMembers(desired, observed);
        }
        Map<Long, Integer> ordinals = new HashMap<>();
        for (MemberView m : observed.members()) {
            OptionalInt o = topology.ordinalOf(m.peerUrl());
            if (o.isEmpty()) {
                return new Step.Wait(Reason.UnmanagedMember, "member " + Long.toHexString(m.id()) + " at "
                        + m.peerUrl() + " is not one of this cluster's pods; membership is left alone");
            }
            ordinals.put(m.id(), o.getAsInt());
        }
        int n = observed.members().size();
        for (int i = 0; i < n; i++) {
            if (!ordinals.containsValue(i)) {
                return new Step.Wait(Reason.UnmanagedMember, "the member list does not cover ordinals 0.."
                        + (n - 1) + " (ordinal " + i + " missing); membership is left alone");
            }
        }
        List<MemberView> voters = observed.members().stream().filter(m -> !m.learner()).toList();
        long healthyVoters = voters.stream().filter(MemberView::healthy).count();
        if (observed.leaderId() == 0 || healthyVoters < quorum(voters.size())) {
            return new Step.Wait(Reason.QuorumLost, healthyVoters + " of " + voters.size()
                    + " voters healthy" + (observed.leaderId() == 0 ? ", no leader" : "")
                    + "; no action is taken (quorum needs " + quorum(voters.size()) + ")");
        }
        if (observed.bootstrap() != Observed.BootstrapState.EXISTING) {
            return new Step.FinishBootstrap();
        }
        Optional<Step> next = finishUnfinishedChange(desired, observed, ordinals, n);
        if (next.isEmpty()) {
            next = replaceFailedMember(desired, observed, ordinals, voters, healthyVoters);
        }
        if (next.isEmpty()) {
            next = scale(desired, observed, ordinals, voters, healthyVoters, n);
        }
        if (next.isEmpty()) {
            next = upgrade(desired, observed, ordinals, voters, healthyVoters);
        }
        return next.orElseGet(() -> steadyState(observed));
    }

    private Step planWithoutMembers(Desired desired, Observed observed) {
        boolean untouched = observed.statefulSetReplicas() == 0 && observed.pods().isEmpty()
                && observed.claimOrdinals().isEmpty();
        if (observed.bootstrap() == Observed.BootstrapState.NONE && untouched) {
            List<String> initial = new ArrayList<>();
            for (int i = 0; i < desired.replicas(); i++) {
                initial.add(topology.memberName(i) + "=" + topology.peerUrl(i));
            }
            return new Step.Bootstrap(desired.replicas(), initial);
        }
        if (observed.bootstrap() == Observed.BootstrapState.NEW) {
            return new Step.Wait(Reason.Bootstrapping, "waiting for the initial members to elect a leader");
        }
        return new Step.Wait(Reason.QuorumLost, "no member answers the member list; no action is taken");
    }

    private Optional<Step> finishUnfinishedChange(Desired desired, Observed observed, Map<Long, Integer> ordinals, int n) {
        if (observed.statefulSetReplicas() != n) {
            return Optional.of(new Step.ScaleStatefulSet(n));
        }
        if (desired.deleteClaimsOnScaleDown()) {
            Optional<Integer> orphan = observed.claimOrdinals().stream()
                    .filter(o -> o >= n && observed.pod(o).isEmpty()).min(Integer::compare);
            if (orphan.isPresent()) {
                return Optional.of(new Step.ReclaimClaim(orphan.get()));
            }
        }
        for (MemberView m : observed.members()) {
            Optional<PodView> pod = observed.pod(ordinals.get(m.id()));
            if (pod.isPresent() && pod.get().runningMemberId() != 0 && pod.get().runningMemberId() != m.id()) {
                return Optional.of(new Step.ResetDataDir(pod.get().ordinal(), pod.get().runningMemberId()));
            }
        }
        Optional<MemberView> learner = observed.members().stream().filter(MemberView::learner).findFirst();
        if (learner.isPresent()) {
            MemberView l = learner.get();
            if (l.healthy() && caughtUp(l, observed)) {
                return Optional.of(new Step.PromoteLearner(l.id(), topology.memberName(ordinals.get(l.id()))));
            }
            return Optional.of(new Step.Wait(Reason.LearnerCatchingUp, "learner "
                    + topology.memberName(ordinals.get(l.id())) + " is catching up (applied " + l.appliedIndex()
                    + ", leader " + leaderApplied(observed) + "); promotion waits"));
        }
        return Optional.empty();
    }

    private Optional<Step> replaceFailedMember(Desired desired, Observed observed, Map<Long, Integer> ordinals,
            List<MemberView> voters, long healthyVoters) {
        List<MemberView> failed = new ArrayList<>();
        List<String> causes = new ArrayList<>();
        for (MemberView v : voters.stream().sorted(Comparator.comparing(v -> ordinals.get(v.id()))).toList()) {
            // A member that never started is the fresh member of an earlier replacement (or a new
            // one): its empty data dir is expected, and replacing it again would duplicate the change.
            boolean fresh = v.started()
                    && observed.pod(ordinals.get(v.id())).map(PodView::freshDataDir).orElse(false);
            boolean longUnhealthy = !v.healthy() && v.unhealthySince()
                    .map(t -> !t.plus(desired.unhealthyAfter()).isAfter(observed.now())).orElse(false);
            if (fresh) {
                failed.add(v);
                causes.add("its data dir is empty");
            } else if (longUnhealthy) {
                failed.add(v);
                causes.add("unhealthy since " + v.unhealthySince().get() + ", longer than " + desired.unhealthyAfter());
            }
        }
        if (failed.isEmpty()) {
            return Optional.empty();
        }
        MemberView victim = failed.get(0);
        int ordinal = ordinals.get(victim.id());
        if (!desired.replacementEnabled()) {
            return Optional.of(new Step.Wait(Reason.MemberUnhealthy, topology.memberName(ordinal) + " has failed ("
                    + causes.get(0) + ") and member replacement is disabled"));
        }
        long healthyOthers = healthyVoters - (victim.healthy() ? 1 : 0);
        if (healthyOthers < quorum(voters.size())) {
            return Optional.of(new Step.Wait(Reason.ReplacementWouldLoseQuorum, "replacing "
                    + topology.memberName(ordinal) + " would leave " + healthyOthers + " healthy voters of "
                    + voters.size()));
        }
        if (victim.id() == observed.leaderId()) {
            return moveLeaderAway(observed, voters, victim, Reason.ReplacingMember);
        }
        return Optional.of(new Step.ReplaceMember(victim.id(), ordinal, topology.memberName(ordinal),
                topology.peerUrl(ordinal), causes.get(0)));
    }

    private Optional<Step> scale(Desired desired, Observed observed, Map<Long, Integer> ordinals,
            List<MemberView> voters, long healthyVoters, int n) {
        if (n == desired.replicas()) {
            return Optional.empty();
        }
        Optional<MemberView> unhealthy = observed.members().stream().filter(m -> !m.healthy()).findFirst();
        if (unhealthy.isPresent()) {
            return Optional.of(new Step.Wait(Reason.MemberUnhealthy, "scaling waits until every member is healthy ("
                    + topology.memberName(ordinals.get(unhealthy.get().id())) + " is not)"));
        }
        if (n < desired.replicas()) {
            return Optional.of(new Step.AddLearner(n, topology.memberName(n), topology.peerUrl(n)));
        }
        MemberView victim = observed.members().stream().filter(m -> ordinals.get(m.id()) == n - 1).findFirst()
                .orElseThrow();
        if (victim.id() == observed.leaderId()) {
            return moveLeaderAway(observed, voters, victim, Reason.ScalingDown);
        }
        long votersAfter = voters.size() - (victim.learner() ? 0 : 1);
        long healthyAfter = healthyVoters - (!victim.learner() && victim.healthy() ? 1 : 0);
        if (healthyAfter < quorum(votersAfter)) {
            return Optional.of(new Step.Wait(Reason.RemovalWouldLoseQuorum, "removing " + topology.memberName(n - 1)
                    + " would leave " + healthyAfter + " healthy voters of " + votersAfter));
        }
        return Optional.of(new Step.RemoveMember(victim.id(), topology.memberName(n - 1), n - 1));
    }

    private Optional<Step> upgrade(Desired desired, Observed observed, Map<Long, Integer> ordinals,
            List<MemberView> voters, long healthyVoters) {
        List<MemberView> outdated = observed.members().stream()
                .filter(m -> observed.pod(ordinals.get(m.id())).map(p -> !p.version().equals(desired.version()))
                        .orElse(false))
                .sorted(Comparator.comparing(m -> ordinals.get(m.id())))
                .toList();
        if (outdated.isEmpty()) {
            return Optional.empty();
        }
        Optional<MemberView> lagging = observed.members().stream()
                .filter(m -> !m.healthy() || !caughtUp(m, observed)).findFirst();
        if (lagging.isPresent()) {
            return Optional.of(new Step.Wait(Reason.WaitingForMembers, "the upgrade waits for "
                    + topology.memberName(ordinals.get(lagging.get().id())) + " to be healthy and caught up"));
        }
        if (healthyVoters - 1 < quorum(voters.size())) {
            return Optional.of(new Step.Wait(Reason.RestartWouldLoseQuorum, "restarting a member of a "
                    + voters.size() + "-voter cluster would leave fewer than a quorum of healthy voters"));
        }
        Optional<MemberView> follower = outdated.stream().filter(m -> m.id() != observed.leaderId()).findFirst();
        if (follower.isPresent()) {
            int o = ordinals.get(follower.get().id());
            return Optional.of(new Step.RestartMember(o, topology.memberName(o), desired.version()));
        }
        MemberView leader = outdated.get(0);
        return moveLeaderAway(observed, voters, leader, Reason.Upgrading);
    }

    private Optional<Step> moveLeaderAway(Observed observed, List<MemberView> voters, MemberView from, Reason because) {
        Optional<MemberView> to = voters.stream()
                .filter(v -> v.id() != from.id() && v.healthy() && caughtUp(v, observed))
                .max(Comparator.comparingLong(MemberView::appliedIndex).thenComparing(v -> -v.id()));
        if (to.isEmpty()) {
            return Optional.of(new Step.Wait(Reason.WaitingForMembers, "no healthy, caught-up voter to take over"
                    + " leadership from " + Long.toHexString(from.id())));
        }
        return Optional.of(new Step.MoveLeader(from.id(), to.get().id(), because));
    }

    private Step steadyState(Observed observed) {
        Optional<MemberView> unhealthy = observed.members().stream().filter(m -> !m.healthy()).findFirst();
        if (unhealthy.isPresent()) {
            return new Step.Wait(Reason.MemberUnhealthy, "member " + Long.toHexString(unhealthy.get().id())
                    + " is unhealthy" + unhealthy.get().unhealthySince().map(t -> " since " + t).orElse(""));
        }
        return new Step.Wait(Reason.Ready, "the cluster matches its spec");
    }

    private static boolean caughtUp(MemberView m, Observed observed) {
        return m.appliedIndex() + CATCH_UP_LAG_ENTRIES >= leaderApplied(observed);
    }

    private static long leaderApplied(Observed observed) {
        return observed.member(observed.leaderId()).map(MemberView::appliedIndex).orElse(Long.MAX_VALUE);
    }

    /** Votes needed out of {@code voters} (Raft §5.2: a majority). */
    public static long quorum(long voters) {
        return voters / 2 + 1;
    }
}

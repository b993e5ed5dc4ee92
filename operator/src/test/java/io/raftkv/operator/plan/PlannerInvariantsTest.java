package io.raftkv.operator.plan;

import io.raftkv.operator.plan.Observed.BootstrapState;
import io.raftkv.operator.plan.Observed.MemberView;
import io.raftkv.operator.plan.Observed.PodView;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static io.raftkv.operator.plan.ClusterFixture.NOW;
import static io.raftkv.operator.plan.ClusterFixture.TOPOLOGY;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The planner's safety rules over random observations (one seed builds one observation): whatever
 * it sees, it never changes membership without quorum or while another change is unfinished, never
 * removes, restarts or replaces a member when that leaves fewer than a quorum of healthy voters,
 * never restarts the leader, and promotes only a healthy, caught-up learner.
 */
class PlannerInvariantsTest {
    private final Planner planner = new Planner(TOPOLOGY);

    @Property(tries = 3000)
    void everyPlannedStepKeepsQuorumAndOneChangeInFlight(@ForAll long seed) {
        Random r = new Random(seed);
        Observed o = randomObservation(r);
        Desired d = new Desired(1 + 2 * r.nextInt(4), r.nextBoolean() ? "v1" : "v2", r.nextBoolean(), r.nextBoolean(),
                Duration.ofMinutes(5));
        Step step = planner.plan(d, o);
        check(o, step, "seed " + seed + ": " + step + " from " + o);
    }

    /** The checker catches a deliberately broken planner that removes the highest member whenever asked. */
    @Example
    void checkerCatchesAPlannerThatRemovesWithoutLookingAtQuorum() {
        int caught = 0;
        for (long seed = 0; seed < 500; seed++) {
            Observed o = randomObservation(new Random(seed));
            MemberView top = o.members().get(o.members().size() - 1);
            Step broken = new Step.RemoveMember(top.id(), "rk-" + (o.members().size() - 1), o.members().size() - 1);
            try {
                check(o, broken, "broken planner, seed " + seed);
            } catch (AssertionError expected) {
                caught++;
            }
        }
        assertThat(caught).as("violations found in 500 random observations").isGreaterThan(50);
    }

    private static void check(Observed o, Step step, String ctx) {

        List<MemberView> voters = o.members().stream().filter(m -> !m.learner()).toList();
        long healthyVoters = voters.stream().filter(MemberView::healthy).count();
        boolean quorum = o.leaderId() != 0 && healthyVoters >= Planner.quorum(voters.size());
        boolean learnerInFlight = o.members().stream().anyMatch(MemberView::learner);
        boolean resizePending = o.statefulSetReplicas() != o.members().size();

        if (o.memberListKnown() && !quorum) {
            assertThat(step).as(ctx).isInstanceOf(Step.Wait.class);
        }
        if (step instanceof Step.AddLearner || step instanceof Step.RemoveMember || step instanceof Step.ReplaceMember) {
            assertThat(learnerInFlight || resizePending).as("a second change while one is unfinished: " + ctx).isFalse();
            assertThat(quorum).as(ctx).isTrue();
        }
        if (step instanceof Step.RemoveMember rm) {
            MemberView victim = o.member(rm.id()).orElseThrow();
            long votersAfter = voters.size() - (victim.learner() ? 0 : 1);
            long healthyAfter = healthyVoters - (!victim.learner() && victim.healthy() ? 1 : 0);
            assertThat(healthyAfter).as(ctx).isGreaterThanOrEqualTo(Planner.quorum(votersAfter));
            assertThat(rm.id()).as("the leader is moved first: " + ctx).isNotEqualTo(o.leaderId());
        }
        if (step instanceof Step.RestartMember rs) {
            long id = idAt(o, rs.ordinal());
            assertThat(id).as("the leader is never restarted while it leads: " + ctx).isNotEqualTo(o.leaderId());
            assertThat(healthyVoters - 1).as(ctx).isGreaterThanOrEqualTo(Planner.quorum(voters.size()));
        }
        if (step instanceof Step.ReplaceMember rp) {
            MemberView victim = o.member(rp.oldId()).orElseThrow();
            assertThat(healthyVoters - (victim.healthy() ? 1 : 0)).as(ctx)
                    .isGreaterThanOrEqualTo(Planner.quorum(voters.size()));
            assertThat(rp.oldId()).as(ctx).isNotEqualTo(o.leaderId());
        }
        if (step instanceof Step.PromoteLearner p) {
            MemberView l = o.member(p.id()).orElseThrow();
            long leaderApplied = o.member(o.leaderId()).orElseThrow().appliedIndex();
            assertThat(l.learner() && l.healthy()
                    && l.appliedIndex() + Planner.CATCH_UP_LAG_ENTRIES >= leaderApplied).as(ctx).isTrue();
        }
        if (step instanceof Step.MoveLeader m) {
            MemberView to = o.member(m.toId()).orElseThrow();
            assertThat(to.healthy() && !to.learner()).as(ctx).isTrue();
        }
    }

    private static long idAt(Observed o, int ordinal) {
        return o.members().stream().filter(m -> m.peerUrl().equals(TOPOLOGY.peerUrl(ordinal))).findFirst()
                .map(MemberView::id).orElse(0L);
    }

    private static Observed randomObservation(Random r) {
        int n = 1 + r.nextInt(7);
        List<MemberView> members = new ArrayList<>();
        int learners = r.nextInt(10) == 0 ? 2 : r.nextInt(3) == 0 ? 1 : 0;
        for (int i = 0; i < n; i++) {
            boolean learner = i >= n - learners;
            boolean healthy = r.nextInt(4) != 0;
            boolean started = healthy || r.nextBoolean();
            members.add(new MemberView(0x100 + i, started ? "rk-" + i : "", TOPOLOGY.peerUrl(i), learner, started,
                    healthy, healthy ? 1000 + r.nextInt(3000) : 0, healthy ? "3.4.23" : "",
                    healthy ? Optional.empty() : Optional.of(NOW.minus(Duration.ofMinutes(r.nextInt(10))))));
        }
        int sts = Math.max(0, n + r.nextInt(3) - 1);
        List<PodView> pods = new ArrayList<>();
        Set<Integer> claims = new TreeSet<>();
        for (int i = 0; i < sts; i++) {
            long running = r.nextInt(20) == 0 ? 0x999 : i < n ? 0x100 + i : 0;
            pods.add(new PodView(i, r.nextBoolean() ? "v1" : "v2", r.nextInt(8) == 0, running));
            claims.add(i);
        }
        if (r.nextBoolean()) {
            claims.add(sts);
        }
        List<MemberView> healthyVoters = members.stream().filter(m -> m.healthy() && !m.learner()).toList();
        long leader = healthyVoters.isEmpty() || r.nextInt(10) == 0 ? 0
                : healthyVoters.get(r.nextInt(healthyVoters.size())).id();
        return new Observed(BootstrapState.EXISTING, sts, pods, claims, true, members, leader, NOW);
    }
}

package io.raftkv.operator.plan;

import io.raftkv.operator.plan.Observed.BootstrapState;
import io.raftkv.operator.plan.Observed.PodView;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static io.raftkv.operator.plan.ClusterFixture.TOPOLOGY;
import static io.raftkv.operator.plan.ClusterFixture.healthy;
import static io.raftkv.operator.plan.ClusterFixture.id;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Table tests of the planner: one row per step and per refusal. A row names the situation, the
 * desired spec, the observation and the expected step (a {@link Reason} for a {@link Step.Wait}).
 */
class PlannerTest {
    private static final Duration FIVE_MINUTES = Duration.ofMinutes(5);
    private final Planner planner = new Planner(TOPOLOGY);

    static Desired want(int replicas) {
        return new Desired(replicas, "v1", false, true, FIVE_MINUTES);
    }

    static Desired want(int replicas, String version) {
        return new Desired(replicas, version, false, true, FIVE_MINUTES);
    }

    static Stream<Arguments> table() {
        return Stream.of(
                // bootstrap
                row("an untouched cluster is bootstrapped with the full initial member list", want(5),
                        ClusterFixture.empty(),
                        new Step.Bootstrap(5, List.of("rk-0=" + TOPOLOGY.peerUrl(0), "rk-1=" + TOPOLOGY.peerUrl(1),
                                "rk-2=" + TOPOLOGY.peerUrl(2), "rk-3=" + TOPOLOGY.peerUrl(3),
                                "rk-4=" + TOPOLOGY.peerUrl(4)))),
                row("while the initial members start, the operator waits", want(3),
                        ClusterFixture.empty().bootstrap(BootstrapState.NEW), Reason.Bootstrapping),
                row("an unreachable cluster that has claims is never bootstrapped again", want(3),
                        claimsOnly(), Reason.QuorumLost),
                row("once a leader is elected bootstrapping is finished", want(3),
                        healthy(3, "v1").bootstrap(BootstrapState.NEW), new Step.FinishBootstrap()),
                row("a cluster matching its spec is ready", want(3), healthy(3, "v1"), Reason.Ready),
                // quorum
                row("quorum lost: no action at all, even with a scale request", want(5),
                        healthy(3, "v1").unhealthy(1, FIVE_MINUTES.multipliedBy(2)).unhealthy(2, FIVE_MINUTES.multipliedBy(2)),
                        Reason.QuorumLost),
                row("no leader: no action", want(5), healthy(3, "v1").leader(-1), Reason.QuorumLost),
                row("a member the operator does not manage stops membership changes", want(5),
                        foreignMember(), Reason.UnmanagedMember),
                // scale up
                row("scale up starts with a learner for the next ordinal", want(5), healthy(3, "v1"),
                        new Step.AddLearner(3, "rk-3", TOPOLOGY.peerUrl(3))),
                row("after MemberAdd the StatefulSet grows to the member count", want(5),
                        healthy(3, "v1").withLearner(3, false, 0), new Step.ScaleStatefulSet(4)),
                row("no promote before the learner has caught up", want(5),
                        healthy(3, "v1").withLearner(3, true, 10).withPod(3, "v1").sts(4), Reason.LearnerCatchingUp),
                row("no promote while the learner is unhealthy", want(5),
                        healthy(3, "v1").withLearner(3, false, 0).withPod(3, "v1").sts(4), Reason.LearnerCatchingUp),
                row("a caught-up learner is promoted", want(5),
                        healthy(3, "v1").withLearner(3, true, 4500).withPod(3, "v1").sts(4),
                        new Step.PromoteLearner(id(3), "rk-3")),
                row("no second change while a learner is in flight, even if the spec shrinks", want(1),
                        healthy(3, "v1").withLearner(3, true, 10).withPod(3, "v1").sts(4), Reason.LearnerCatchingUp),
                row("scaling waits while a member is unhealthy", want(5),
                        healthy(3, "v1").unhealthy(2, Duration.ofSeconds(5)), Reason.MemberUnhealthy),
                // scale down
                row("scale down removes the highest ordinal", want(3), healthy(5, "v1"),
                        new Step.RemoveMember(id(4), "rk-4", 4)),
                row("the leader is moved off the member to remove first", want(3), healthy(5, "v1").leader(4),
                        new Step.MoveLeader(id(4), id(0), Reason.ScalingDown)),
                row("after MemberRemove the StatefulSet shrinks to the member count", want(3),
                        healthy(5, "v1").withoutMember(4), new Step.ScaleStatefulSet(4)),
                row("with reclaim policy Delete, a removed member's claim is deleted after its pod is gone",
                        new Desired(3, "v1", true, true, FIVE_MINUTES),
                        healthy(4, "v1").withoutMember(3).withoutPod(3).sts(3), new Step.ReclaimClaim(3)),
                row("with reclaim policy Retain, the claim stays", want(3),
                        healthy(4, "v1").withoutMember(3).withoutPod(3).sts(3), Reason.Ready),
                row("a claim is not deleted while its pod still runs", new Desired(3, "v1", true, true, FIVE_MINUTES),
                        healthy(4, "v1").withoutMember(3).sts(3), Reason.Ready),
                row("no removal that breaks quorum", want(1),
                        healthy(3, "v1").unhealthy(1, Duration.ofSeconds(1)).leader(0), Reason.MemberUnhealthy),
                // member replacement
                row("a member with an empty data dir is replaced at once in one joint change", want(3),
                        healthy(3, "v1").unhealthy(1, Duration.ofSeconds(1)).pod(1, p -> new PodView(1, "v1", true, 0)),
                        new Step.ReplaceMember(id(1), 1, "rk-1", TOPOLOGY.peerUrl(1), "its data dir is empty")),
                row("the fresh member of a replacement that has not started yet is not replaced again", want(3),
                        healthy(3, "v1").member(1, m -> new Observed.MemberView(0x555, "rk-1", m.peerUrl(), false, false,
                                false, 0, "", java.util.Optional.of(ClusterFixture.NOW)))
                                .pod(1, p -> new PodView(1, "v1", true, 0)),
                        Reason.MemberUnhealthy),
                row("a member unhealthy beyond the policy duration is replaced", want(3),
                        healthy(3, "v1").unhealthy(2, Duration.ofMinutes(6)), Step.ReplaceMember.class),
                row("a member unhealthy for less than the policy duration is only reported", want(3),
                        healthy(3, "v1").unhealthy(2, Duration.ofMinutes(4)), Reason.MemberUnhealthy),
                row("replacement disabled: reported, not replaced", new Desired(3, "v1", false, false, FIVE_MINUTES),
                        healthy(3, "v1").unhealthy(2, Duration.ofMinutes(6)), Reason.MemberUnhealthy),
                row("no replacement that breaks quorum", want(5),
                        healthy(5, "v1").unhealthy(3, Duration.ofMinutes(6)).unhealthy(4, Duration.ofMinutes(6))
                                .pod(2, p -> new PodView(2, "v1", true, 0)),
                        Reason.ReplacementWouldLoseQuorum),
                row("a process running as a removed identity gets its data dir reset", want(3),
                        healthy(3, "v1").pod(1, p -> new PodView(1, "v1", false, 0x999)),
                        new Step.ResetDataDir(1, 0x999)),
                // rolling upgrade
                row("upgrade restarts a follower first", want(3, "v2"), healthy(3, "v1"),
                        new Step.RestartMember(1, "rk-1", "v2")),
                row("upgrade waits for the restarted member to be healthy", want(3, "v2"),
                        healthy(3, "v1").pod(1, p -> new PodView(1, "v2", false, id(1)))
                                .unhealthy(1, Duration.ofSeconds(3)),
                        Reason.WaitingForMembers),
                row("upgrade waits for the restarted member to catch up", want(3, "v2"),
                        healthy(3, "v1").pod(1, p -> new PodView(1, "v2", false, id(1))).applied(1, 3),
                        Reason.WaitingForMembers),
                row("the leader is upgraded last, after MoveLeader", want(3, "v2"),
                        healthy(3, "v2").pod(0, p -> new PodView(0, "v1", false, id(0))),
                        new Step.MoveLeader(id(0), id(1), Reason.Upgrading)),
                row("leadership goes to the most caught-up voter", want(3, "v2"),
                        healthy(3, "v2").pod(0, p -> new PodView(0, "v1", false, id(0))).applied(2, 5600),
                        new Step.MoveLeader(id(0), id(2), Reason.Upgrading)),
                row("a single-member cluster is never restarted (it would lose quorum)", want(1, "v2"),
                        healthy(1, "v1"), Reason.RestartWouldLoseQuorum),
                row("an upgraded cluster is ready", want(3, "v2"), healthy(3, "v2"), Reason.Ready));
    }

    private static Arguments row(String name, Desired desired, ClusterFixture observed, Object expected) {
        return Arguments.of(name, desired, observed.observed(), expected);
    }

    private static ClusterFixture claimsOnly() {
        ClusterFixture f = ClusterFixture.empty();
        f.bootstrap = BootstrapState.EXISTING;
        f.claims.add(0);
        return f;
    }

    private static ClusterFixture foreignMember() {
        ClusterFixture f = healthy(3, "v1");
        f.members.add(new Observed.MemberView(0x777, "stranger", "http://10.0.0.9:2380", false, true, true, 500,
                "3.4.23", java.util.Optional.empty()));
        return f;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void plansTheExpectedNextStep(String situation, Desired desired, Observed observed, Object expected) {
        Step step = planner.plan(desired, observed);
        if (expected instanceof Reason r) {
            assertThat(step).as(situation).isInstanceOf(Step.Wait.class);
            assertThat(step.reason()).as(situation + ": " + step.describe()).isEqualTo(r);
        } else if (expected instanceof Class<?> c) {
            assertThat(step).as(situation).isInstanceOf(c);
        } else {
            assertThat(step).as(situation).isEqualTo(expected);
        }
    }
}

package io.raftkv.operator.driver;

import io.raftkv.operator.member.GrpcMemberClient;
import io.raftkv.operator.plan.Desired;
import io.raftkv.operator.plan.Observed;
import io.raftkv.operator.plan.Reason;
import io.raftkv.operator.plan.Step;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The membership driver against a REAL local raftkv cluster (node processes from the packaged
 * node, {@code -Draftkv.jar}), under a steady write load: bootstrap 3, scale 3 -> 5, replace a
 * member whose data dir was wiped, rolling restart onto a new version with leadership moved first,
 * scale 5 -> 3 with claims deleted. The operator is "killed" between every two rounds (a new driver
 * and a new client each round) and additionally right after some accepted membership calls; the
 * test shows that no change is duplicated or lost, no acknowledged write is lost, and no
 * observation after bootstrap lacks a quorum of healthy voters.
 */
class MembershipDriverRealClusterTest {
    private static final Duration PHASE_DEADLINE = Duration.ofSeconds(150);

    @TempDir
    Path dir;
    private LocalWorkloads pods;
    private WriteLoad load;
    private final Map<String, AtomicInteger> accepted = CrashingMemberClient.counters();
    private final List<MembershipDriver.Round> rounds = new ArrayList<>();
    private final Set<String> crashAfter = Set.of("addLearner#1", "remove#1", "replace#1", "promote#2");

    @BeforeEach
    void start() throws Exception {
        Path jar = Path.of(System.getProperty("raftkv.jar", "../node/server/target/quarkus-app/quarkus-run.jar"));
        assumeTrue(Files.exists(jar), "the node is not packaged: " + jar + " (mvn -pl node/server -am package)");
        pods = new LocalWorkloads(dir, jar);
    }

    @AfterEach
    void stop() {
        if (load != null) {
            load.close();
        }
        if (pods != null) {
            pods.close();
        }
    }

    @Test
    void scalesReplacesAndUpgradesUnderLoadWithoutLosingWritesOrQuorumAcrossOperatorRestarts() throws Exception {
        runUntil(desired(3, "v1"), o -> voters(o) == 3 && o.bootstrap() == Observed.BootstrapState.EXISTING);
        int firstObservation = rounds.size();
        load = new WriteLoad(pods::runningEndpoints);

        int before = load.ackedCount();
        runUntil(desired(5, "v1"), o -> voters(o) == 5);
        assertThat(load.ackedCount()).as("writes acknowledged while scaling up").isGreaterThan(before);

        long wipedId = memberAt(last(), 1);
        pods.wipe(1);
        runUntil(desired(5, "v1"), o -> voters(o) == 5 && memberAt(o, 1) != wipedId && memberAt(o, 1) != 0);

        pods.setTemplateVersion("v2");
        before = load.ackedCount();
        runUntil(desired(5, "v2"), o -> o.pods().stream().allMatch(p -> p.version().equals("v2")));
        assertThat(load.ackedCount()).as("writes acknowledged during the rolling restart").isGreaterThan(before);

        runUntil(new Desired(3, "v2", true, true, Duration.ofMinutes(5)),
                o -> voters(o) == 3 && o.claimOrdinals().equals(Set.of(0, 1, 2)));

        assertThat(count("addLearner")).as("learners added (3 -> 5)").isEqualTo(2);
        assertThat(count("promote")).as("learners promoted").isEqualTo(2);
        assertThat(count("replace")).as("joint replacements").isEqualTo(1);
        assertThat(count("remove")).as("members removed (5 -> 3)").isEqualTo(2);
        for (MembershipDriver.Round r : rounds.subList(firstObservation, rounds.size())) {
            assertThat(r.step().reason()).as("observation at " + r.observed().now() + ": " + r.step().describe())
                    .isNotEqualTo(Reason.QuorumLost);
            if (r.step() instanceof Step.RestartMember restart) {
                assertThat(memberAt(r.observed(), restart.ordinal())).as("the leader is never restarted while it leads")
                        .isNotEqualTo(r.observed().leaderId());
            }
        }
        assertThat(rounds).as("the leader was moved before it was restarted")
                .anyMatch(r -> r.step() instanceof Step.MoveLeader m && m.because() == Reason.Upgrading);
        int acked = load.ackedCount();
        assertThat(load.missing(pods.runningEndpoints().get(0))).as("acknowledged writes missing").isEmpty();
        System.out.println("acknowledged writes checked: " + acked + "; rounds: " + rounds.size() + "; accepted changes: "
                + accepted);
    }

    private static Desired desired(int replicas, String version) {
        return new Desired(replicas, version, false, true, Duration.ofMinutes(5));
    }

    /** Runs rounds, each with a NEW driver and client (the operator restarted), until Ready and {@code done}. */
    private void runUntil(Desired desired, Predicate<Observed> done) throws InterruptedException {
        long deadline = System.nanoTime() + PHASE_DEADLINE.toNanos();
        while (System.nanoTime() < deadline) {
            try (GrpcMemberClient grpc = new GrpcMemberClient(Duration.ofSeconds(2), Duration.ofSeconds(15))) {
                CrashingMemberClient client = new CrashingMemberClient(grpc, accepted, crashAfter);
                ClusterObserver observer = new ClusterObserver(pods.topology(), pods, client, Clock.systemUTC());
                MembershipDriver driver = new MembershipDriver(pods.topology(), pods, client, observer, StepListener.NONE);
                MembershipDriver.Round r = driver.reconcileOnce(desired);
                rounds.add(r);
                System.out.println("round: " + r.step().describe()
                        + r.failure().map(f -> " FAILED: " + f.getMessage()).orElse(""));
                if (r.step().reason() == Reason.Ready && done.test(r.observed())) {
                    return;
                }
            }
            Thread.sleep(300);
        }
        fail("not done within " + PHASE_DEADLINE + "; last step: " + last() + "; " + last().members());
    }

    private Observed last() {
        return rounds.get(rounds.size() - 1).observed();
    }

    private int count(String call) {
        AtomicInteger n = accepted.get(call);
        return n == null ? 0 : n.get();
    }

    private static long voters(Observed o) {
        long v = o.members().stream().filter(m -> !m.learner() && m.healthy()).count();
        return v == o.members().size() ? v : -1;
    }

    private long memberAt(Observed o, int ordinal) {
        String url = pods.topology().peerUrl(ordinal);
        return o.members().stream().filter(m -> m.peerUrl().equals(url)).mapToLong(Observed.MemberView::id)
                .findFirst().orElse(0);
    }

}

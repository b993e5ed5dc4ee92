package io.raftkv.e2e.jepsen;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole harness can fail: real processes, a real partition, and reads that are allowed to be
 * stale (etcd serializable reads, answered from the member's own state) must come out of the
 * pipeline (workload, history, checker, report) as a linearizability violation with a stale GET
 * in the counterexample. If this passed with a PASS verdict, the battery's PASS would mean nothing.
 * (Followers' serializable reads lag the leader even without a partition, so the verdict holds
 * where partitions cannot be injected too.)
 */
class JepsenSelfCheckIT {

    @Test
    void serializableReadsThroughAnIsolatedLeaderAreReportedAsNotLinearizable() throws Exception {
        Scenario s = new Scenario("selfcheck-3", JepsenCluster.Kind.RAFTKV, 3, List.of(Fault.PARTITION_LEADER),
                Duration.ofSeconds(16), 6_000, 3_000, Long.getLong("jepsen.seed", 7));
        JepsenRun.Outcome outcome = JepsenRun.run(s, () -> List.of(new RegisterWorkload(8, 2, 60, 1_500, true)));
        Workload.Result register = outcome.results().stream().filter(r -> r.workload().equals("register"))
                .findFirst().orElseThrow();
        if (NamespaceNet.available()) {
            assertThat(outcome.timeline()).as("the partition was injected").isNotEmpty();
        }
        assertThat(register.verdict()).as(outcome.summary()).isEqualTo(Workload.Verdict.FAIL);
        assertThat(register.details()).as("the counterexample shows a read").anyMatch(l -> l.contains(" GET "));
        assertThat(outcome.passed()).isFalse();
    }
}

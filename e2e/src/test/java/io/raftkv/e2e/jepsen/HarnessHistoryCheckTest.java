package io.raftkv.e2e.jepsen;

import io.raftkv.lincheck.Operation;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The harness's check path ({@link RegisterWorkload#check(List, Duration)}) decides histories shaped
 * like the ones the register workload records (unique values, CAS from "absent", timed-out writes,
 * several retired keys) correctly: the anomalies Jepsen found in real systems are FAIL with the
 * offending key's smallest sub-history, and their legal neighbours are PASS. The checker's own
 * unit tests (node/lincheck) cover the model; these cover the harness's use of it.
 */
class HarnessHistoryCheckTest {
    private static final Duration BUDGET = Duration.ofSeconds(10);
    private static final String K = "jr/0/0";
    private static final String OTHER = "jr/1/0";

    /** Background traffic on another key, legal on its own, so the failing key has to be found. */
    private static List<Operation> withNoise(Operation... ops) {
        List<Operation> history = new ArrayList<>(List.of(ops));
        history.add(Operation.put(9, OTHER, "c9.1", 0, 5));
        history.add(Operation.get(8, OTHER, "c9.1", 6, 9));
        history.add(Operation.cas(9, OTHER, "c9.1", "c9.2", true, 10, 14));
        history.add(Operation.put(8, OTHER, "c8.1", 11, Operation.INDETERMINATE));
        history.add(Operation.get(7, OTHER, "c9.2", 15, 20));
        return history;
    }

    private static Workload.Result check(List<Operation> history) {
        return RegisterWorkload.check(history, BUDGET);
    }

    @Test
    void staleReadFromADeposedLeaderFailsWithTheStaleReadInTheCounterexample() {
        Workload.Result r = check(withNoise(
                Operation.put(1, K, "c1.1", 0, 10),
                Operation.put(2, K, "c2.1", 20, 30),  // acknowledged by the new leader
                Operation.get(3, K, "c1.1", 40, 50),  // the old leader answers from its own state
                Operation.put(4, K, "c4.1", 45, Operation.INDETERMINATE)));
        assertThat(r.verdict()).isEqualTo(Workload.Verdict.FAIL);
        assertThat(r.summary()).contains("NOT linearizable on key " + K);
        List<String> counterexample = r.details().stream().filter(l -> l.startsWith("  c")).toList();
        assertThat(counterexample).as("the smallest failing sub-history: both writes and the stale read")
                .containsExactly("  c1 PUT " + K + " = c1.1 [0, 10]", "  c2 PUT " + K + " = c2.1 [20, 30]",
                        "  c3 GET " + K + " -> c1.1 [40, 50]");
    }

    @Test
    void lostAcknowledgedWriteFails() {
        Workload.Result r = check(withNoise(
                Operation.cas(1, K, null, "c1.1", true, 0, 10),
                Operation.put(2, K, "c2.1", 20, 30),
                Operation.get(3, K, "c1.1", 100, 110),  // c2.1 acknowledged, then gone
                Operation.get(4, K, "c1.1", 120, 130)));
        assertThat(r.verdict()).isEqualTo(Workload.Verdict.FAIL);
    }

    @Test
    void writeSeenThenUnseenFails() {
        Workload.Result r = check(withNoise(
                Operation.put(1, K, "c1.1", 0, 10),
                Operation.put(2, K, "c2.1", 20, Operation.INDETERMINATE),  // timed out: may or may not apply
                Operation.get(3, K, "c2.1", 30, 40),  // one member shows it
                Operation.get(4, K, "c1.1", 50, 60)));  // a later read no longer does
        assertThat(r.verdict()).isEqualTo(Workload.Verdict.FAIL);
        assertThat(String.join("\n", r.details())).contains("c4 GET " + K + " -> c1.1");
    }

    @Test
    void twoCasFromTheSameValueBothSucceedingFails() {
        Workload.Result r = check(withNoise(
                Operation.put(1, K, "c1.1", 0, 10),
                Operation.cas(2, K, "c1.1", "c2.1", true, 20, 30),
                Operation.cas(3, K, "c1.1", "c3.1", true, 40, 50)));
        assertThat(r.verdict()).isEqualTo(Workload.Verdict.FAIL);
    }

    @Test
    void writeAppliedTwiceByAClientRetryFails() {
        // Why the harness turns jetcd's retries off: one PUT applied at 5 and again at 35, around a CAS.
        Workload.Result r = check(withNoise(
                Operation.put(1, K, "c1.1", 0, 40),
                Operation.cas(2, K, "c1.1", "c2.1", true, 10, 20),
                Operation.get(3, K, "c2.1", 21, 25),
                Operation.get(4, K, "c1.1", 50, 60)));
        assertThat(r.verdict()).isEqualTo(Workload.Verdict.FAIL);
    }

    @Test
    void timedOutWritesThatMayOrMayNotHaveAppliedPass() {
        Workload.Result r = check(withNoise(
                Operation.put(1, K, "c1.1", 0, 10),
                Operation.put(2, K, "c2.1", 15, Operation.INDETERMINATE),  // never applied
                Operation.cas(3, K, "c1.1", "c3.1", false, 16, Operation.INDETERMINATE),
                Operation.get(4, K, "c1.1", 20, 30),
                Operation.put(5, K, "c5.1", 35, Operation.INDETERMINATE),  // applied late
                Operation.get(6, K, "c1.1", 40, 50),
                Operation.get(7, K, "c5.1", 60, 70)));
        assertThat(r.verdict()).as(r.summary()).isEqualTo(Workload.Verdict.PASS);
    }

    @Test
    void concurrentWritesReadInEitherOrderPass() {
        Workload.Result r = check(withNoise(
                Operation.put(1, K, "c1.1", 0, 30),
                Operation.put(2, K, "c2.1", 5, 35),
                Operation.get(3, K, "c2.1", 10, 40),
                Operation.cas(4, K, "c2.1", "c4.1", false, 12, 45),  // c1.1 landed last
                Operation.get(5, K, "c1.1", 50, 60)));
        assertThat(r.verdict()).as(r.summary()).isEqualTo(Workload.Verdict.PASS);
        assertThat(r.summary()).contains("on 2 keys").contains("1 indeterminate");
    }

    @Test
    void acknowledgedKeysMissingFromAMemberAreLost() {
        assertThat(DurabilityWorkload.lost(Set.of("a", "b", "c"), Set.of("a", "c", "x"))).containsExactly("b");
        assertThat(DurabilityWorkload.lost(Set.of("a"), Set.of("a", "b"))).isEmpty();
    }
}

package io.raftkv.lincheck;

import static org.assertj.core.api.Assertions.assertThat;

import io.raftkv.lincheck.CheckResult.Verdict;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Sanity checks that histories of the size the simulator and the end-to-end harness produce are
 * decided, not timed. The budget is generous on purpose: this asserts the verdict, never a duration
 * (a benchmark belongs in JMH).
 */
class CheckerScaleTest {

    private static final Duration GENEROUS = Duration.ofSeconds(60);

    @Test
    void twoThousandOperationsOnFiveKeysFromTenClientsAreDecided() {
        List<Operation> history = RegisterHistories.concurrentClients(42, 10, 5, 2000, 0.0);
        assertThat(history).hasSize(2000);

        CheckResult result = LinearizabilityChecker.check(history, GENEROUS);

        assertThat(result.verdict()).as(result.describe()).isEqualTo(Verdict.OK);
    }

    @Test
    void twoThousandOperationsWithTimeoutsAreDecided() {
        List<Operation> history = RegisterHistories.concurrentClients(43, 10, 5, 2000, 0.02);

        CheckResult result = LinearizabilityChecker.check(history, GENEROUS);

        assertThat(result.verdict()).as(result.describe()).isEqualTo(Verdict.OK);
    }

    @Test
    void staleReadInALargeHistoryIsFoundAndShrunk() {
        List<Operation> history = new java.util.ArrayList<>(RegisterHistories.concurrentClients(44, 10, 5, 2000, 0.0));
        long end = history.stream().mapToLong(Operation::ret).max().orElseThrow();
        history.add(Operation.put(1, "k3", "late", end + 10, end + 20));
        history.add(Operation.put(1, "k3", "later", end + 30, end + 40));
        history.add(Operation.get(2, "k3", "late", end + 50, end + 60));

        CheckResult result = LinearizabilityChecker.check(history, GENEROUS);

        assertThat(result.verdict()).isEqualTo(Verdict.ILLEGAL);
        assertThat(result.key()).isEqualTo("k3");
        assertThat(result.counterexample()).hasSizeLessThanOrEqualTo(3);
    }
}

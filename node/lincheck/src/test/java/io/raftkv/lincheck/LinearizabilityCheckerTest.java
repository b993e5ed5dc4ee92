package io.raftkv.lincheck;

import static io.raftkv.lincheck.Operation.INDETERMINATE;
import static io.raftkv.lincheck.Operation.cas;
import static io.raftkv.lincheck.Operation.delete;
import static io.raftkv.lincheck.Operation.get;
import static io.raftkv.lincheck.Operation.put;
import static org.assertj.core.api.Assertions.assertThat;

import io.raftkv.lincheck.CheckResult.Verdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Known histories, each small enough to verify by hand. Times are [call, ret]. */
class LinearizabilityCheckerTest {

    private static CheckResult check(Operation... history) {
        return LinearizabilityChecker.check(List.of(history), Duration.ofSeconds(30));
    }

    private static void assertIllegal(Operation... history) {
        CheckResult result = check(history);
        assertThat(result.verdict()).as(result.describe()).isEqualTo(Verdict.ILLEGAL);
    }

    private static void assertLinearizable(Operation... history) {
        CheckResult result = check(history);
        assertThat(result.verdict()).as(result.describe()).isEqualTo(Verdict.OK);
    }

    @Test
    void emptyHistoryIsLinearizable() {
        assertLinearizable();
    }

    @Test
    void readOfAbsentKeyBeforeAnyWriteIsLinearizable() {
        assertLinearizable(get(1, "x", null, 0, 10));
    }

    @Test
    void staleReadAfterAcknowledgedWriteIsIllegal() {
        assertIllegal(
                put(1, "x", "a", 0, 10),
                put(1, "x", "b", 20, 30),
                get(2, "x", "a", 40, 50));
    }

    @Test
    void readOfAbsentAfterAcknowledgedWriteIsIllegal() {
        assertIllegal(
                put(1, "x", "a", 0, 10),
                get(2, "x", null, 20, 30));
    }

    @Test
    void lostWriteIsIllegal() {
        // b was acknowledged, but every later read still sees a.
        assertIllegal(
                put(1, "x", "a", 0, 10),
                put(2, "x", "b", 20, 30),
                get(3, "x", "a", 40, 50),
                get(1, "x", "a", 60, 70),
                get(2, "x", "a", 80, 90));
    }

    @Test
    void writeSeenThenUnseenIsIllegal() {
        // The write of b is still in flight, but once a reader has seen it nobody may see a again.
        assertIllegal(
                put(1, "x", "a", 0, 10),
                put(2, "x", "b", 20, 100),
                get(3, "x", "b", 30, 40),
                get(4, "x", "a", 50, 60));
    }

    @Test
    void casSucceedingTwiceFromTheSameExpectedValueIsIllegal() {
        assertIllegal(
                put(1, "x", "0", 0, 10),
                cas(2, "x", "0", "1", true, 20, 40),
                cas(3, "x", "0", "2", true, 25, 45));
    }

    @Test
    void readOfValueNeverWrittenIsIllegal() {
        assertIllegal(
                put(1, "x", "a", 0, 10),
                get(2, "x", "z", 20, 30));
    }

    @Test
    void readOfValueWrittenOnlyAfterTheReadReturnedIsIllegal() {
        assertIllegal(
                get(2, "x", "a", 0, 10),
                put(1, "x", "a", 20, 30));
    }

    @Test
    void concurrentOverlappingOperationsThatAdmitAnOrderAreLinearizable() {
        // One order: get->absent, put a, get->a, put b, cas b->c, get->c.
        assertLinearizable(
                put(1, "x", "a", 0, 100),
                get(2, "x", null, 5, 15),
                get(3, "x", "a", 10, 20),
                put(4, "x", "b", 30, 50),
                cas(2, "x", "b", "c", true, 40, 60),
                get(3, "x", "c", 55, 70));
    }

    @Test
    void concurrentReadsMayObserveConcurrentWritesInEitherOrder() {
        assertLinearizable(
                put(1, "x", "a", 0, 50),
                put(2, "x", "b", 0, 50),
                get(3, "x", "b", 10, 20),
                get(4, "x", "a", 30, 60));
    }

    @Test
    void touchingIntervalsCountAsConcurrent() {
        assertLinearizable(
                put(1, "x", "a", 0, 10),
                get(2, "x", null, 10, 20));
    }

    @Test
    void failedCasIsAnObservationThatTheValueDiffered() {
        assertIllegal(
                put(1, "x", "a", 0, 10),
                cas(2, "x", "a", "b", false, 20, 30));
        assertLinearizable(
                put(1, "x", "a", 0, 10),
                cas(2, "x", "z", "b", false, 20, 30),
                get(3, "x", "a", 40, 50));
    }

    @Test
    void casExpectingAbsentSucceedsOnlyOnAnAbsentKey() {
        assertLinearizable(
                cas(1, "x", null, "a", true, 0, 10),
                get(2, "x", "a", 20, 30));
        assertIllegal(
                put(1, "x", "a", 0, 10),
                cas(2, "x", null, "b", true, 20, 30));
    }

    @Test
    void deleteMakesTheKeyAbsent() {
        assertLinearizable(
                put(1, "x", "a", 0, 10),
                delete(2, "x", 20, 30),
                get(3, "x", null, 40, 50));
        assertIllegal(
                put(1, "x", "a", 0, 10),
                delete(2, "x", 20, 30),
                get(3, "x", "a", 40, 50));
    }

    @Test
    void indeterminateWriteThatTookEffectIsLinearizable() {
        assertLinearizable(
                put(1, "x", "a", 0, 10),
                put(2, "x", "b", 20, INDETERMINATE),
                get(3, "x", "b", 30, 40),
                get(3, "x", "b", 50, 60));
    }

    @Test
    void indeterminateWriteThatDidNotTakeEffectIsLinearizable() {
        assertLinearizable(
                put(1, "x", "a", 0, 10),
                put(2, "x", "b", 20, INDETERMINATE),
                get(3, "x", "a", 30, 40),
                get(3, "x", "a", 50, 60));
    }

    @Test
    void indeterminateWriteMayTakeEffectLongAfterItsCall() {
        assertLinearizable(
                put(1, "x", "a", 0, 10),
                put(2, "x", "b", 20, INDETERMINATE),
                get(3, "x", "a", 500, 510),
                get(3, "x", "b", 900, 910));
    }

    @Test
    void indeterminateWriteCannotTakeEffectBeforeItsCall() {
        assertIllegal(
                get(3, "x", "b", 0, 10),
                put(2, "x", "b", 20, INDETERMINATE));
    }

    @Test
    void indeterminateWriteThatTookEffectCannotBeUndone() {
        assertIllegal(
                put(1, "x", "a", 0, 10),
                put(2, "x", "b", 20, INDETERMINATE),
                get(3, "x", "b", 30, 40),
                get(3, "x", "a", 50, 60));
    }

    @Test
    void unobservedIndeterminateWriteCanExplainAFailedCas() {
        assertLinearizable(
                put(1, "x", "a", 0, 10),
                put(2, "x", "c", 15, INDETERMINATE),
                cas(3, "x", "a", "b", false, 20, 30));
    }

    @Test
    void indeterminateCasTakesEffectOnlyIfItsComparisonHolds() {
        assertLinearizable(
                put(1, "x", "a", 0, 10),
                cas(2, "x", "a", "b", false, 20, INDETERMINATE),
                get(3, "x", "b", 30, 40));
        assertIllegal(
                put(1, "x", "a", 0, 10),
                cas(2, "x", "z", "b", true, 20, INDETERMINATE),
                get(3, "x", "b", 30, 40));
    }

    @Test
    void indeterminateReadConstrainsNothing() {
        assertLinearizable(
                put(1, "x", "a", 0, 10),
                get(2, "x", "never-written", 20, INDETERMINATE));
    }

    @Test
    void definitelyFailedWriteHasNoEffect() {
        Operation rejected = new Operation(2, "x", OpKind.PUT, "b", null, null, false, 20, 30);
        assertLinearizable(
                put(1, "x", "a", 0, 10),
                rejected,
                get(3, "x", "a", 40, 50));
        assertIllegal(
                put(1, "x", "a", 0, 10),
                rejected,
                get(3, "x", "b", 40, 50));
    }

    @Test
    void historyNeedNotBeSortedByTime() {
        assertIllegal(
                get(2, "x", "a", 40, 50),
                put(1, "x", "b", 20, 30),
                put(1, "x", "a", 0, 10));
    }

    @Test
    void keysAreCheckedIndependently() {
        // The same shapes on y and z are legal; x has a stale read. Interleaved in time.
        CheckResult result = check(
                put(1, "y", "a", 0, 10),
                put(1, "x", "a", 1, 11),
                put(2, "z", "a", 2, 12),
                put(2, "x", "b", 20, 30),
                put(3, "y", "b", 21, 31),
                get(3, "x", "a", 40, 50),
                get(4, "y", "b", 41, 51),
                get(4, "z", "a", 42, 52));

        assertThat(result.verdict()).isEqualTo(Verdict.ILLEGAL);
        assertThat(result.key()).isEqualTo("x");
        assertThat(result.counterexample()).allMatch(op -> op.key().equals("x"));
    }

    @Test
    void aValueWrittenToAnotherKeyDoesNotExplainARead() {
        assertIllegal(
                put(1, "y", "a", 0, 10),
                get(2, "x", "a", 20, 30));
    }

    @Test
    void legalKeysCombineIntoALegalHistory() {
        assertLinearizable(
                put(1, "x", "a", 0, 10),
                put(2, "y", "a", 0, 10),
                get(1, "y", "a", 20, 30),
                get(2, "x", "a", 20, 30),
                delete(1, "x", 40, 50),
                get(2, "x", null, 60, 70),
                get(2, "y", "a", 60, 70));
    }

    @Test
    void shrinkerReturnsASmallerHistoryThatIsItselfIllegal() {
        List<Operation> history = new ArrayList<>(RegisterHistories.concurrentClients(7, 4, 1, 60, 0.0));
        long end = history.stream().mapToLong(Operation::ret).max().orElseThrow();
        history.add(put(9, "k0", "fresh", end + 10, end + 20));
        history.add(get(9, "k0", null, end + 30, end + 40));

        CheckResult result = LinearizabilityChecker.check(history, Duration.ofSeconds(30));

        assertThat(result.verdict()).isEqualTo(Verdict.ILLEGAL);
        assertThat(result.counterexample().size()).isLessThan(history.size());
        assertThat(result.keyHistorySize()).isEqualTo(history.size());
        assertThat(result.minimal()).isTrue();
        assertThat(LinearizabilityChecker.check(result.counterexample(), Duration.ofSeconds(30)).verdict())
                .isEqualTo(Verdict.ILLEGAL);
        // Any acknowledged write followed by the read of absent will do.
        assertThat(result.counterexample()).hasSize(2);
        assertThat(result.counterexample().get(0).kind()).isEqualTo(OpKind.PUT);
        assertThat(result.counterexample().get(1)).isEqualTo(get(9, "k0", null, end + 30, end + 40));
    }

    @Test
    void staleReadShrinksToBothWritesAndTheStaleRead() {
        CheckResult result = check(
                put(1, "x", "a", 0, 10),
                get(2, "x", "a", 12, 18),
                get(3, "x", "a", 13, 19),
                put(1, "x", "b", 20, 30),
                get(2, "x", "b", 31, 35),
                get(3, "x", "a", 40, 50));

        assertThat(result.counterexample()).containsExactly(
                put(1, "x", "a", 0, 10),
                put(1, "x", "b", 20, 30),
                get(3, "x", "a", 40, 50));
    }

    @Test
    void describeNamesTheKeyAndPrintsTheCounterexampleWithTimes() {
        CheckResult result = check(
                put(1, "x", "a", 0, 10),
                put(2, "x", "b", 20, INDETERMINATE),
                get(3, "x", "b", 30, 40),
                get(4, "x", "a", 50, 60));

        assertThat(result.describe())
                .contains("key \"x\"")
                .contains("c2 PUT x = b [20, inf]")
                .contains("c3 GET x -> b [30, 40]")
                .contains("c4 GET x -> a [50, 60]")
                .contains("locally minimal");
    }

    @Test
    void aCustomModelIsAppliedToEachKey() {
        // A deliberately broken register whose reads accept anything: the stale read goes unnoticed.
        Model<String> readsAnything = new Model<>() {
            @Override
            public String initialState() {
                return null;
            }

            @Override
            public boolean accepts(String state, Operation op) {
                return op.kind() == OpKind.GET || KvModel.INSTANCE.accepts(state, op);
            }

            @Override
            public String next(String state, Operation op) {
                return KvModel.INSTANCE.next(state, op);
            }
        };
        List<Operation> staleRead = List.of(
                put(1, "x", "a", 0, 10),
                put(1, "x", "b", 20, 30),
                get(2, "x", "a", 40, 50));

        assertThat(LinearizabilityChecker.check(staleRead, readsAnything, Budget.UNLIMITED).verdict())
                .isEqualTo(Verdict.OK);
        assertThat(LinearizabilityChecker.check(staleRead, KvModel.INSTANCE, Budget.UNLIMITED).verdict())
                .isEqualTo(Verdict.ILLEGAL);
    }

    @Test
    void exhaustedStepBudgetGivesUnknownNamingTheKey() {
        // 24 concurrent writes and a read of a value none of them wrote: refuting it means exploring
        // every subset of the writes, far beyond 10 000 steps.
        List<Operation> history = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            history.add(put(i, "hard", "v" + i, 0, 1000));
        }
        history.add(get(99, "hard", "nobody", 500, 2000));
        history.add(put(1, "easy", "a", 0, 10));

        CheckResult first = LinearizabilityChecker.check(history, Budget.ofSteps(10_000));
        CheckResult second = LinearizabilityChecker.check(history, Budget.ofSteps(10_000));

        assertThat(first.verdict()).isEqualTo(Verdict.UNKNOWN);
        assertThat(first.undecidedKeys()).containsExactly("hard");
        assertThat(first.describe()).contains("hard");
        assertThat(second).isEqualTo(first);
    }

    @Test
    void illegalKeyIsReportedEvenWhenAnotherKeyIsUndecided() {
        List<Operation> history = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            history.add(put(i, "hard", "v" + i, 0, 1000));
        }
        history.add(get(99, "hard", "nobody", 500, 2000));
        history.add(put(1, "bad", "a", 0, 10));
        history.add(get(2, "bad", null, 20, 30));

        CheckResult result = LinearizabilityChecker.check(history, Budget.ofSteps(10_000));

        assertThat(result.verdict()).isEqualTo(Verdict.ILLEGAL);
        assertThat(result.key()).isEqualTo("bad");
        assertThat(result.undecidedKeys()).containsExactly("hard");
    }
}

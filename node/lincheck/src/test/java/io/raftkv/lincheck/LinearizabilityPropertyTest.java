package io.raftkv.lincheck;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import io.raftkv.lincheck.RegisterHistories.Fate;
import io.raftkv.lincheck.RegisterHistories.PlannedOp;

/** Properties of the checker against histories with a known answer, and against a brute-force reference. */
class LinearizabilityPropertyTest {

    private static final Duration GENEROUS = Duration.ofSeconds(30);

    @Property(tries = 300)
    void historiesExecutedOnARealRegisterAreAccepted(@ForAll("overlappingPlans") List<PlannedOp> plan) {
        List<Operation> history = RegisterHistories.execute(plan);

        CheckResult result = LinearizabilityChecker.check(history, GENEROUS);

        assertThat(result.verdict()).as(result.describe()).isEqualTo(CheckResult.Verdict.OK);
    }

    @Property(tries = 200)
    void sequentialHistoriesExecutedOnARealRegisterAreAccepted(@ForAll("sequentialPlans") List<PlannedOp> plan) {
        List<Operation> history = RegisterHistories.execute(plan);

        CheckResult result = LinearizabilityChecker.check(history, GENEROUS);

        assertThat(result.verdict()).as(result.describe()).isEqualTo(CheckResult.Verdict.OK);
    }

    @Property(tries = 300)
    void readOfAValueNeverWrittenIsRejected(
            @ForAll("overlappingPlans") List<PlannedOp> plan, @ForAll @IntRange(min = 0, max = 1000) int which) {
        List<Operation> history = new ArrayList<>(RegisterHistories.execute(plan));
        List<Integer> reads = completedReads(history);
        Assume.that(!reads.isEmpty());
        int target = reads.get(which % reads.size());
        history.set(target, withOutput(history.get(target), "no-client-wrote-this"));

        CheckResult result = LinearizabilityChecker.check(history, GENEROUS);

        assertThat(result.verdict()).as(result.describe()).isEqualTo(CheckResult.Verdict.ILLEGAL);
        assertThat(result.counterexample()).contains(history.get(target));
    }

    @Property(tries = 300)
    void readOfAValueWrittenOnlyAfterTheReadReturnedIsRejected(
            @ForAll("overlappingPlans") List<PlannedOp> plan, @ForAll @IntRange(min = 0, max = 1000) int which) {
        List<Operation> history = new ArrayList<>(RegisterHistories.execute(plan));
        List<int[]> pairs = new ArrayList<>();
        for (int read : completedReads(history)) {
            for (int w = 0; w < history.size(); w++) {
                Operation write = history.get(w);
                boolean writesValue = write.kind() == OpKind.PUT || write.kind() == OpKind.CAS;
                if (writesValue && write.key().equals(history.get(read).key()) && write.call() > history.get(read).ret()) {
                    pairs.add(new int[] {read, w});
                }
            }
        }
        Assume.that(!pairs.isEmpty());
        int[] pair = pairs.get(which % pairs.size());
        history.set(pair[0], withOutput(history.get(pair[0]), history.get(pair[1]).value()));

        CheckResult result = LinearizabilityChecker.check(history, GENEROUS);

        assertThat(result.verdict()).as(result.describe()).isEqualTo(CheckResult.Verdict.ILLEGAL);
    }

    @Property(tries = 2000)
    void checkerAgreesWithBruteForceOnSmallArbitraryHistories(@ForAll("arbitraryHistories") List<Operation> history) {
        boolean expected = BruteForceChecker.isLinearizable(history);

        CheckResult result = LinearizabilityChecker.check(history, Budget.UNLIMITED);

        assertThat(result.verdict())
                .as("history %s; checker says %s", history, result.describe())
                .isEqualTo(expected ? CheckResult.Verdict.OK : CheckResult.Verdict.ILLEGAL);
    }

    @Property(tries = 500)
    void counterexampleIsIllegalSmallerAndLocallyMinimal(@ForAll("arbitraryHistories") List<Operation> history) {
        CheckResult result = LinearizabilityChecker.check(history, Budget.UNLIMITED);
        Assume.that(result.isIllegal());

        List<Operation> counterexample = result.counterexample();
        assertThat(history).containsAll(counterexample);
        assertThat(counterexample).allMatch(op -> op.key().equals(result.key()));
        assertThat(counterexample.size()).isLessThanOrEqualTo(result.keyHistorySize());
        assertThat(BruteForceChecker.isLinearizable(counterexample)).as(result.describe()).isFalse();
        assertThat(result.minimal()).isTrue();
        List<Operation> keyHistory = KvModel.INSTANCE.relevant(
                history.stream().filter(op -> op.key().equals(result.key())).toList());
        assertThat(Shrinker.closed(counterexample, minus(keyHistory, counterexample))).isTrue();
        for (int i = 0; i < counterexample.size(); i++) {
            List<Operation> smaller = new ArrayList<>(counterexample);
            smaller.remove(i);
            boolean refused = !Shrinker.closed(smaller, minus(keyHistory, smaller));
            assertThat(refused || BruteForceChecker.isLinearizable(smaller))
                    .as("without op %d of %s", i, result.describe())
                    .isTrue();
        }
    }

    @Provide
    Arbitrary<List<PlannedOp>> overlappingPlans() {
        return plans(Arbitraries.integers().between(1, 35), Arbitraries.integers().between(1, 35));
    }

    @Provide
    Arbitrary<List<PlannedOp>> sequentialPlans() {
        // Intervals shorter than half the spacing never overlap.
        return plans(Arbitraries.integers().between(1, 4), Arbitraries.integers().between(1, 4));
    }

    private static Arbitrary<List<PlannedOp>> plans(Arbitrary<Integer> callLeads, Arbitrary<Integer> retLags) {
        Arbitrary<Fate> fates = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Arbitraries.just(Fate.COMPLETED)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Fate.TIMED_OUT_APPLIED)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Fate.TIMED_OUT_LOST)));
        Arbitrary<PlannedOp> op = Combinators.combine(
                        Arbitraries.of(OpKind.class),
                        Arbitraries.integers().between(0, 2),
                        Arbitraries.of(true, false),
                        Arbitraries.integers().between(0, 10),
                        callLeads,
                        retLags,
                        fates)
                .as(PlannedOp::new);
        return op.list().ofMinSize(1).ofMaxSize(40);
    }

    @Provide
    Arbitrary<List<Operation>> arbitraryHistories() {
        Arbitrary<String> keys = Arbitraries.of("x", "y");
        Arbitrary<String> values = Arbitraries.of("a", "b", "c");
        Arbitrary<String> valuesOrAbsent = Arbitraries.of("a", "b", "c").injectNull(0.3);
        Arbitrary<Long> calls = Arbitraries.longs().between(0, 24);
        Arbitrary<Long> durations = Arbitraries.longs().between(1, 12);
        Arbitrary<Boolean> timedOut = Arbitraries.of(true, false, false, false);
        Arbitrary<Operation> op = Combinators.combine(
                        Arbitraries.of(OpKind.class), keys, values, valuesOrAbsent, Arbitraries.of(true, false),
                        calls, durations, timedOut)
                .as((kind, key, value, maybe, ok, call, duration, unknown) -> {
                    long ret = unknown ? Operation.INDETERMINATE : call + duration;
                    return switch (kind) {
                        case GET -> Operation.get(1, key, maybe, call, ret);
                        // A PUT reporting !ok definitely failed; one in four does.
                        case PUT -> new Operation(2, key, OpKind.PUT, value, null, null, ok || maybe != null, call, ret);
                        case DELETE -> Operation.delete(3, key, call, ret);
                        case CAS -> Operation.cas(4, key, maybe, value, ok, call, ret);
                    };
                });
        return op.list().ofMinSize(1).ofMaxSize(8);
    }

    private static List<Integer> completedReads(List<Operation> history) {
        List<Integer> reads = new ArrayList<>();
        for (int i = 0; i < history.size(); i++) {
            if (history.get(i).kind() == OpKind.GET && !history.get(i).indeterminate()) {
                reads.add(i);
            }
        }
        return reads;
    }

    /** {@code all} without one occurrence of each element of {@code some}. */
    private static List<Operation> minus(List<Operation> all, List<Operation> some) {
        List<Operation> rest = new ArrayList<>(all);
        for (Operation op : some) {
            rest.remove(op);
        }
        return rest;
    }

    private static Operation withOutput(Operation read, String output) {
        Objects.requireNonNull(output);
        return Operation.get(read.clientId(), read.key(), output, read.call(), read.ret());
    }
}

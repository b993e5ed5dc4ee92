package io.raftkv.lincheck;

import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of {@link LinearizabilityChecker#check}: a verdict and, when the history is not
 * linearizable, a small counterexample for a human to read. Immutable.
 *
 * @param verdict         OK, ILLEGAL or UNKNOWN
 * @param key             for ILLEGAL, the key whose sub-history is not linearizable; null otherwise
 * @param counterexample  for ILLEGAL, a non-linearizable sub-history of {@code key}, ordered by call
 *                        time; empty otherwise
 * @param keyHistorySize  for ILLEGAL, how many operations the checker considered for {@code key}
 *                        before shrinking; 0 otherwise
 * @param minimal         for ILLEGAL, true if the counterexample is locally minimal: removing any single
 *                        operation makes it linearizable, or removes a write that a remaining operation's
 *                        output relies on (the shrinker refuses those drops, since they could manufacture
 *                        a violation that never happened); false if the budget ran out while shrinking
 * @param undecidedKeys   the keys whose search ran out of budget, sorted; with verdict UNKNOWN these
 *                        are why; with ILLEGAL they are keys left unchecked or undecided
 */
public record CheckResult(
        Verdict verdict,
        String key,
        List<Operation> counterexample,
        int keyHistorySize,
        boolean minimal,
        List<String> undecidedKeys) {

    /** The answer to "is this history linearizable?". */
    public enum Verdict {
        /** Every key's sub-history has a linearization. */
        OK,
        /** Some key's sub-history has no linearization; {@link CheckResult#counterexample()} shows one. */
        ILLEGAL,
        /** No violation was found, but the budget ran out before every key was decided. */
        UNKNOWN
    }

    /** Copies the lists and checks that the fields fit the verdict. */
    public CheckResult {
        Objects.requireNonNull(verdict, "verdict");
        counterexample = List.copyOf(counterexample);
        undecidedKeys = List.copyOf(undecidedKeys);
        if ((verdict == Verdict.ILLEGAL) != (key != null)) {
            throw new IllegalArgumentException("key must be given exactly when the verdict is ILLEGAL");
        }
    }

    /** The result for a linearizable history. */
    public static CheckResult ok() {
        return new CheckResult(Verdict.OK, null, List.of(), 0, false, List.of());
    }

    /** The result for a history in which no key was found illegal but {@code undecidedKeys} were not decided. */
    public static CheckResult unknown(List<String> undecidedKeys) {
        return new CheckResult(Verdict.UNKNOWN, null, List.of(), 0, false, undecidedKeys);
    }

    /** The result for a history whose sub-history of {@code key} is not linearizable. */
    public static CheckResult illegal(
            String key, List<Operation> counterexample, int keyHistorySize, boolean minimal, List<String> undecidedKeys) {
        List<Operation> byCall = counterexample.stream()
                .sorted(Comparator.comparingLong(Operation::call).thenComparingLong(Operation::ret))
                .toList();
        return new CheckResult(Verdict.ILLEGAL, key, byCall, keyHistorySize, minimal, undecidedKeys);
    }

    /** True if the history is linearizable. */
    public boolean isOk() {
        return verdict == Verdict.OK;
    }

    /** True if the history is definitely not linearizable. */
    public boolean isIllegal() {
        return verdict == Verdict.ILLEGAL;
    }

    /** A multi-line report for a test failure message: the verdict and, for ILLEGAL, the counterexample with times. */
    public String describe() {
        return switch (verdict) {
            case OK -> "linearizable";
            case UNKNOWN -> "undecided: the check ran out of budget on keys " + undecidedKeys
                    + "; no violation found on the other keys";
            case ILLEGAL -> describeIllegal();
        };
    }

    private String describeIllegal() {
        StringBuilder out = new StringBuilder()
                .append("not linearizable: key \"").append(key).append("\", ")
                .append(counterexample.size()).append(" of ").append(keyHistorySize).append(" operations ")
                .append(minimal
                        ? "(locally minimal: drop any one and the rest is linearizable, or lacks a write another one read)"
                        : "(shrinking stopped early: budget exhausted)")
                .append(":\n");
        for (Operation op : counterexample) {
            out.append("  ").append(op.describe()).append('\n');
        }
        out.append("  (times are [call, return]; inf = outcome unknown, may take effect any time after call or never)");
        if (!undecidedKeys.isEmpty()) {
            out.append("\n  keys not decided: ").append(undecidedKeys);
        }
        return out.toString();
    }

    /** The same as {@link #describe()}. */
    @Override
    public String toString() {
        return describe();
    }
}

package io.raftkv.lincheck;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Decides whether a key-value history is linearizable (Herlihy and Wing, 1990): whether every
 * operation can be given an instant inside its [call, ret] interval such that, in the order of those
 * instants, every read and compare sees the most recent write. Stateless and thread-safe; each call
 * runs on the calling thread.
 *
 * <p>Linearizability is compositional (Herlihy and Wing, Theorem 1) and a key-value store is a set of
 * independent registers, so the history is split by key and each key checked on its own ("P-compositionality",
 * Horn and Kroening 2015). Smaller keys are checked first, and the first illegal key ends the check.
 * Its sub-history is then shrunk to a small counterexample.
 */
public final class LinearizabilityChecker {

    private LinearizabilityChecker() {
    }

    /** Checks {@code history} against {@link KvModel}, giving up with UNKNOWN after {@code timeout} of wall-clock time. */
    public static CheckResult check(List<Operation> history, Duration timeout) {
        return check(history, KvModel.INSTANCE, Budget.ofTimeout(timeout));
    }

    /** Checks {@code history} against {@link KvModel} within {@code budget}. */
    public static CheckResult check(List<Operation> history, Budget budget) {
        return check(history, KvModel.INSTANCE, budget);
    }

    /**
     * Checks {@code history} within {@code budget}, applying {@code model} to each key independently.
     * The history may be in any order; operations are grouped by {@link Operation#key()}.
     */
    public static <S> CheckResult check(List<Operation> history, Model<S> model, Budget budget) {
        Objects.requireNonNull(model, "model");
        Budget.Meter meter = budget.start();
        Map<String, List<Operation>> byKey = new LinkedHashMap<>();
        for (Operation op : history) {
            byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        }
        List<Map.Entry<String, List<Operation>>> keys = new ArrayList<>(byKey.entrySet());
        keys.sort(Comparator.<Map.Entry<String, List<Operation>>>comparingInt(e -> e.getValue().size())
                .thenComparing(Map.Entry::getKey));
        List<String> undecided = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            String key = keys.get(i).getKey();
            List<Operation> relevant = model.relevant(keys.get(i).getValue());
            CheckResult.Verdict verdict = WingGongSearch.run(relevant, model, meter);
            if (verdict == CheckResult.Verdict.UNKNOWN) {
                undecided.add(key);
            } else if (verdict == CheckResult.Verdict.ILLEGAL) {
                for (int j = i + 1; j < keys.size(); j++) {
                    undecided.add(keys.get(j).getKey());
                }
                Shrinker.Shrunk shrunk = Shrinker.shrink(relevant, model, meter);
                undecided.sort(Comparator.naturalOrder());
                return CheckResult.illegal(key, shrunk.history(), relevant.size(), shrunk.minimal(), undecided);
            }
        }
        if (undecided.isEmpty()) {
            return CheckResult.ok();
        }
        undecided.sort(Comparator.naturalOrder());
        return CheckResult.unknown(undecided);
    }
}

package io.raftkv.lincheck;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The reference for property tests: tries every order of the whole history (all keys together, no
 * partitioning, no pruning, no memoization) against its own map-of-registers semantics. Exponential;
 * only for histories of a handful of operations.
 */
final class BruteForceChecker {

    private final List<Operation> ops = new ArrayList<>();
    private final boolean[] done;

    private BruteForceChecker(List<Operation> history) {
        for (Operation op : history) {
            boolean noEffect = op.definitelyFailed() || (op.kind() == OpKind.GET && op.indeterminate());
            if (!noEffect) {
                ops.add(op);
            }
        }
        done = new boolean[ops.size()];
    }

    /** Whether some real-time-respecting order of {@code history} is a legal sequential run. */
    static boolean isLinearizable(List<Operation> history) {
        return new BruteForceChecker(history).extend(new HashMap<>());
    }

    private boolean extend(Map<String, String> store) {
        boolean allCompletedDone = true;
        for (int i = 0; i < ops.size(); i++) {
            if (!done[i] && !ops.get(i).indeterminate()) {
                allCompletedDone = false;
            }
        }
        if (allCompletedDone) {
            return true; // pending indeterminate operations never took effect
        }
        for (int i = 0; i < ops.size(); i++) {
            if (done[i] || !mayGoNext(ops.get(i))) {
                continue;
            }
            Operation op = ops.get(i);
            String current = store.get(op.key());
            if (!legal(current, op)) {
                continue;
            }
            Map<String, String> after = new HashMap<>(store);
            apply(after, current, op);
            done[i] = true;
            boolean found = extend(after);
            done[i] = false;
            if (found) {
                return true;
            }
        }
        return false;
    }

    /** An operation may go next unless some pending completed operation returned before it was called. */
    private boolean mayGoNext(Operation candidate) {
        for (int j = 0; j < ops.size(); j++) {
            if (!done[j] && ops.get(j).ret() < candidate.call()) {
                return false;
            }
        }
        return true;
    }

    private static boolean legal(String current, Operation op) {
        if (op.indeterminate()) {
            return true;
        }
        return switch (op.kind()) {
            case GET -> Objects.equals(current, op.output());
            case CAS -> op.ok() == Objects.equals(current, op.expected());
            case PUT, DELETE -> true;
        };
    }

    private static void apply(Map<String, String> store, String current, Operation op) {
        switch (op.kind()) {
            case GET -> { }
            case PUT -> store.put(op.key(), op.value());
            case DELETE -> store.remove(op.key());
            case CAS -> {
                if (Objects.equals(current, op.expected())) {
                    store.put(op.key(), op.value());
                }
            }
        }
    }
}

package io.raftkv.lincheck;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A single register per key, initially absent: the specification of a linearizable key-value store.
 * The state is the current value, {@code null} when absent. Stateless and thread-safe.
 */
public final class KvModel implements Model<String> {

    /** The one instance; the model has no configuration. */
    public static final KvModel INSTANCE = new KvModel();

    private KvModel() {
    }

    /** Every key starts absent. */
    @Override
    public String initialState() {
        return null;
    }

    /** A GET must read the current value; a CAS reporting {@code ok} must find {@code expected}, one reporting failure must not. */
    @Override
    public boolean accepts(String state, Operation op) {
        if (op.indeterminate()) {
            return true;
        }
        return switch (op.kind()) {
            case GET -> Objects.equals(state, op.output());
            case CAS -> Objects.equals(state, op.expected()) == op.ok();
            case PUT, DELETE -> true;
        };
    }

    /** PUT and a matching CAS write their value, DELETE makes the key absent, the rest change nothing. */
    @Override
    public String next(String state, Operation op) {
        return switch (op.kind()) {
            case GET -> state;
            case PUT -> op.value();
            case DELETE -> null;
            case CAS -> Objects.equals(state, op.expected()) ? op.value() : state;
        };
    }

    /** GETs and completed CASes that reported failure leave the value as it was. */
    @Override
    public boolean readOnly(Operation op) {
        return op.kind() == OpKind.GET || (op.kind() == OpKind.CAS && !op.ok() && !op.indeterminate());
    }

    /**
     * Drops operations that cannot change the verdict:
     * <ul>
     *   <li>indeterminate GETs and definitely failed operations, which constrain nothing;
     *   <li>indeterminate writes (PUT, CAS, DELETE) of a value that nothing observes, when the key has
     *       no completed failed CAS. A value is observed if some GET returned it or some CAS expected it
     *       ({@code null} counts as the value of DELETE). Given any legal order that includes such a
     *       write W, removing W, together with the indeterminate CASes that failed against W's value,
     *       leaves a legal order: until the next PUT or DELETE nothing could read W's value, and only a
     *       failed CAS could have depended on the value being different. Dropped indeterminate operations
     *       count as "never took effect", which {@link Operation} allows.
     * </ul>
     * Without this rule every timed-out write would stay concurrent with the rest of the history and
     * could double the search space.
     */
    @Override
    public List<Operation> relevant(List<Operation> keyHistory) {
        Set<String> observed = new HashSet<>();
        boolean failedCas = false;
        for (Operation op : keyHistory) {
            if (op.kind() == OpKind.GET && !op.indeterminate() && !op.definitelyFailed()) {
                observed.add(op.output());
            } else if (op.kind() == OpKind.CAS) {
                observed.add(op.expected());
                failedCas |= !op.ok() && !op.indeterminate();
            }
        }
        List<Operation> kept = new ArrayList<>(keyHistory.size());
        for (Operation op : keyHistory) {
            if (op.definitelyFailed() || (op.indeterminate() && op.kind() == OpKind.GET)) {
                continue;
            }
            if (op.indeterminate() && !failedCas && !observed.contains(op.value())) {
                continue;
            }
            kept.add(op);
        }
        return kept;
    }
}

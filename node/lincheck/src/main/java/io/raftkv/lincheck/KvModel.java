package io.raftkv.lincheck;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToLongFunction;

/**
 * A single register per key, initially absent: the specification of a linearizable key-value store.
 * The state is the current value, {@code null} when absent. Stateless and thread-safe.
 *
 * <p>Besides the sequential rules, this model tells the search when a timed-out write stops
 * mattering, which keeps histories with timeouts tractable. Call an operation a <em>potential
 * observer</em> of a write W of value v ({@code null} for DELETE) if its output could depend on W
 * being the last write before it: a completed GET that returned v, a successful completed CAS that
 * expected v, an indeterminate CAS that expected v, or a failed completed CAS that expected some
 * e other than v, unless every write of e (and for e = absent, the initial state) is followed by a
 * completed write that returned before the CAS was called. Only observers that return no earlier
 * than W's call count (touching intervals are concurrent). Then, for an indeterminate W:
 * <ul>
 *   <li>If no potential observer exists, W is dropped: it never needs to take effect
 *       ({@link #relevant}).
 *   <li>If W is the only write of a non-null v and some completed operation read v or successfully
 *       expected it, W must take effect before the earliest such operation returned: it is treated
 *       as completed at that time.
 *   <li>Otherwise, once every potential observer has taken effect, W taking effect later is no
 *       different from W never taking effect, so the search drops it then rather than carrying it
 *       to the end of the history. An indeterminate CAS observer counts until its own deadline if it
 *       is treated as completed, not at all if it is dropped, and forever otherwise.
 * </ul>
 * Why dropping is safe: take a legal order in which W takes effect after all its potential
 * observers. Remove W, and the indeterminate CASes between W and the next PUT or DELETE (at value v
 * they expected something else, so they were no-ops). Between W and that PUT or DELETE no completed
 * GET or successful CAS can sit (it would see v, so it would be a potential observer), and a failed
 * CAS there still fails (its expected value cannot be current: see the shadowing rule above), so
 * the shorter order is still legal, and every removed operation was indeterminate, which
 * {@link Operation} allows. The brute-force comparison in the tests checks these rules.
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

    /**
     * A GET must read the current value; a CAS reporting {@code ok} must find {@code expected}, one
     * reporting failure must not; an indeterminate operation is always accepted.
     */
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
     * Drops operations that cannot change the verdict: indeterminate GETs and definitely failed
     * operations, which constrain nothing, and indeterminate writes without a potential observer
     * (see the class comment).
     */
    @Override
    public List<Operation> relevant(List<Operation> keyHistory) {
        List<Operation> candidates = new ArrayList<>(keyHistory.size());
        for (Operation op : keyHistory) {
            if (!op.definitelyFailed() && !(op.indeterminate() && op.kind() == OpKind.GET)) {
                candidates.add(op);
            }
        }
        Horizons horizons = horizons(candidates);
        List<Operation> kept = new ArrayList<>(candidates.size());
        for (int i = 0; i < candidates.size(); i++) {
            if (horizons.mandatory()[i] || horizons.end()[i] != Long.MIN_VALUE) {
                kept.add(candidates.get(i));
            }
        }
        return kept;
    }

    /** The horizons described in the class comment, for operations already filtered by {@link #relevant}. */
    Horizons horizons(List<Operation> ops) {
        Observers observers = new Observers(ops);
        // First pass: an indeterminate CAS observer pins a write forever. Its result classifies each
        // indeterminate CAS as mandatory (then it takes effect by its end), droppable up front, or neither.
        Horizons first = horizons(ops, observers, cas -> Long.MAX_VALUE);
        Map<Operation, Long> use = new HashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            Operation op = ops.get(i);
            if (op.indeterminate() && op.kind() == OpKind.CAS) {
                long end = first.end()[i];
                long until = first.mandatory()[i] ? end : end == Long.MIN_VALUE ? Long.MIN_VALUE : Long.MAX_VALUE;
                use.merge(op, until, Math::max);
            }
        }
        // Second pass: a mandatory indeterminate CAS has taken effect by its end, so it only pins a write until then.
        return horizons(ops, observers, use::get);
    }

    private static Horizons horizons(
            List<Operation> ops, Observers observers, ToLongFunction<Operation> indeterminateCasUse) {
        int n = ops.size();
        long[] end = new long[n];
        boolean[] mandatory = new boolean[n];
        for (int i = 0; i < n; i++) {
            Operation op = ops.get(i);
            if (!op.indeterminate()) {
                end[i] = op.ret();
                mandatory[i] = true;
                continue;
            }
            if (op.kind() == OpKind.GET) {
                end[i] = Long.MIN_VALUE;
                continue;
            }
            String written = op.kind() == OpKind.DELETE ? null : op.value();
            long mustBy = written != null && observers.writers(written) == 1
                    ? observers.firstRequiringReturnAfter(written, op.call())
                    : Long.MAX_VALUE;
            if (mustBy != Long.MAX_VALUE) {
                end[i] = mustBy;
                mandatory[i] = true;
            } else {
                long lastUse = observers.lastPotentialObserverReturn(written, op, indeterminateCasUse);
                end[i] = lastUse >= op.call() ? lastUse : Long.MIN_VALUE; // touching intervals are concurrent
            }
        }
        return new Horizons(end, mandatory);
    }

    /** Indexes of one key's operations by the value they observe. */
    private static final class Observers {
        /** Per value, the return times of completed GETs returning it and completed successful CASes expecting it. */
        private final Map<String, List<Long>> requiring = new HashMap<>();
        private final Map<String, Integer> writers = new HashMap<>();
        private final Map<String, List<Operation>> indeterminateCasExpecting = new HashMap<>();
        /** Completed failed CASes, by return time, latest first. */
        private final List<Operation> failedCas = new ArrayList<>();

        Observers(List<Operation> ops) {
            for (Operation op : ops) {
                boolean completed = !op.indeterminate();
                switch (op.kind()) {
                    case GET -> {
                        if (completed) {
                            requiring.computeIfAbsent(op.output(), v -> new ArrayList<>()).add(op.ret());
                        }
                    }
                    case CAS -> {
                        if (!completed) {
                            indeterminateCasExpecting.computeIfAbsent(op.expected(), v -> new ArrayList<>()).add(op);
                        } else if (op.ok()) {
                            requiring.computeIfAbsent(op.expected(), v -> new ArrayList<>()).add(op.ret());
                        } else {
                            failedCas.add(op);
                        }
                    }
                    case PUT, DELETE -> { }
                }
                boolean writes = op.kind() == OpKind.PUT || (op.kind() == OpKind.CAS && (op.ok() || !completed));
                if (writes) {
                    writers.merge(op.value(), 1, Integer::sum);
                }
            }
            requiring.values().forEach(rets -> rets.sort(null));
            failedCas.removeIf(cas -> !live(cas, ops));
            failedCas.sort((a, b) -> Long.compare(b.ret(), a.ret()));
        }

        /**
         * Whether a failed CAS expecting e could owe its failure to the write just before it: false if
         * every write of e (and, for e = absent, the initial state) is followed by a completed write
         * that returned before the CAS was called, since then the value the CAS compared against was
         * not e whatever the indeterminate writes did.
         */
        private static boolean live(Operation cas, List<Operation> ops) {
            long barrier = Long.MIN_VALUE; // latest call of a completed write that returned before the CAS's call
            long lastWriterOfExpected = Long.MIN_VALUE;
            for (Operation op : ops) {
                boolean definiteWrite = !op.indeterminate()
                        && (op.kind() == OpKind.PUT || op.kind() == OpKind.DELETE || (op.kind() == OpKind.CAS && op.ok()));
                if (definiteWrite && op.ret() < cas.call()) {
                    barrier = Math.max(barrier, op.call());
                }
                boolean writesExpected = cas.expected() == null
                        ? op.kind() == OpKind.DELETE
                        : (op.kind() == OpKind.PUT || (op.kind() == OpKind.CAS && (op.ok() || op.indeterminate())))
                                && cas.expected().equals(op.value());
                if (writesExpected) {
                    lastWriterOfExpected = Math.max(lastWriterOfExpected, op.ret());
                }
            }
            boolean initialStateUnshadowed = cas.expected() == null && barrier == Long.MIN_VALUE;
            return initialStateUnshadowed || lastWriterOfExpected >= barrier && lastWriterOfExpected != Long.MIN_VALUE;
        }

        int writers(String value) {
            return writers.getOrDefault(value, 0);
        }

        /**
         * The earliest return at or after {@code call} of an operation that read {@code value} or
         * successfully expected it; MAX_VALUE if none.
         */
        long firstRequiringReturnAfter(String value, long call) {
            List<Long> rets = requiring.get(value);
            if (rets == null) {
                return Long.MAX_VALUE;
            }
            int lo = 0;
            int hi = rets.size();
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (rets.get(mid) < call) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo < rets.size() ? rets.get(lo) : Long.MAX_VALUE;
        }

        /**
         * The latest time a potential observer of {@code write} (of {@code value}) may still take effect;
         * MIN_VALUE if none. For an indeterminate CAS, {@code indeterminateCasUse} says that time.
         */
        long lastPotentialObserverReturn(String value, Operation write, ToLongFunction<Operation> indeterminateCasUse) {
            long last = Long.MIN_VALUE;
            for (Operation cas : indeterminateCasExpecting.getOrDefault(value, List.of())) {
                if (cas != write) {
                    last = Math.max(last, indeterminateCasUse.applyAsLong(cas));
                }
            }
            List<Long> rets = requiring.get(value);
            if (rets != null) {
                last = Math.max(last, rets.get(rets.size() - 1));
            }
            for (Operation cas : failedCas) {
                if (cas.ret() <= last) {
                    break;
                }
                if (!Objects.equals(cas.expected(), value)) {
                    last = cas.ret();
                    break;
                }
            }
            return last;
        }
    }
}

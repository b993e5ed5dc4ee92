package io.raftkv.lincheck;

import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The search for a linearization of one key's history: Wing and Gong's algorithm (1993) with
 * Lowe's memoization (2017), in the shape Porcupine made popular.
 *
 * <p>Each operation contributes a call and a return event to a doubly linked list ordered by time
 * (calls before returns at equal times). Walking the list from the head, the search tries to
 * linearize each call it meets: if the model accepts the operation in the current state, the
 * operation's two events are unlinked ("lifted") and the walk restarts at the head. Meeting a
 * return means that operation should already have taken effect, so the search backtracks: it
 * relinks the most recently linearized operation and tries the next call after it. Unlinking and
 * relinking in reverse order restores the list exactly, without copying (Knuth's dancing links).
 *
 * <p>Two prunings keep the search polynomial on typical histories:
 * <ul>
 *   <li>Memoization: a set of (linearized operations, state) pairs already explored; two paths that
 *       reach the same pair have the same future. Operations are numbered in call order, and the
 *       search never linearizes an operation while one that returned before its call is pending, so
 *       the linearized set is "everything below {@code hi}, except a few pending operations"; the key
 *       stores just {@code hi} and those few, not a bitset of the whole history.
 *   <li>Eager reads: a {@linkplain Model#readOnly read-only} operation that is legal now is linearized
 *       now, and not also tried later (see {@link Model#readOnly} for why that loses nothing). Without
 *       this, c concurrent reads of one value multiply the explored pairs by up to 2^c.
 * </ul>
 *
 * <p>Indeterminate operations need not take effect. The model may say, through {@link Horizons}, that
 * one must take effect by some time (it is then treated like a completed operation), or that after
 * some time taking effect would make no difference; its end node then sits at that time, and the
 * search drops the operation when it meets that node. The search succeeds once every mandatory
 * operation is linearized.
 *
 * <p>Eager steps (reads and drops) are not choices: backtracking undoes them and keeps going.
 */
final class WingGongSearch<S> {

    private static final int NIL = -1;

    /** The operations, sorted by call time; operation i has call node 2i and end node 2i+1. */
    private final Operation[] ops;
    /** Per operation, when its end node comes; see {@link Horizons}. */
    private final long[] end;
    /** Per operation, whether meeting its end node while it is pending is a dead end (else it is dropped). */
    private final boolean[] mandatory;
    private final Model<S> model;
    private final Budget.Meter meter;
    private final int[] next;
    private final int[] prev;
    /** Sentinel node before the first event. */
    private final int head;

    private WingGongSearch(List<Operation> history, Model<S> model, Budget.Meter meter) {
        Horizons horizons = model instanceof KvModel kv ? kv.horizons(history) : Horizons.plain(history);
        Integer[] byCall = new Integer[history.size()];
        int count = 0;
        for (int i = 0; i < history.size(); i++) {
            if (horizons.mandatory()[i] || horizons.end()[i] != Long.MIN_VALUE) {
                byCall[count++] = i;
            }
        }
        byCall = Arrays.copyOf(byCall, count);
        Arrays.sort(byCall, Comparator.comparingLong(i -> history.get(i).call())); // stable: ties keep input order
        this.ops = new Operation[count];
        this.end = new long[count];
        this.mandatory = new boolean[count];
        for (int i = 0; i < count; i++) {
            ops[i] = history.get(byCall[i]);
            end[i] = horizons.end()[byCall[i]];
            mandatory[i] = horizons.mandatory()[byCall[i]];
        }
        this.model = model;
        this.meter = meter;
        int nodes = 2 * ops.length;
        this.head = nodes;
        this.next = new int[nodes + 1];
        this.prev = new int[nodes + 1];
        linkInTimeOrder();
    }

    /** Decides whether {@code history}, all on one key, is linearizable under {@code model}, spending {@code meter}. */
    static <S> CheckResult.Verdict run(List<Operation> history, Model<S> model, Budget.Meter meter) {
        return new WingGongSearch<>(history, model, meter).search();
    }

    private void linkInTimeOrder() {
        int nodes = head;
        Integer[] order = new Integer[nodes];
        for (int i = 0; i < nodes; i++) {
            order[i] = i;
        }
        // By time; at equal times calls first, so touching intervals count as concurrent, and the ends of
        // optional operations last, after the returns of their observers; then by node, which keeps
        // call nodes in operation-index order.
        Arrays.sort(order, (a, b) -> {
            int byTime = Long.compare(time(a), time(b));
            if (byTime != 0) {
                return byTime;
            }
            int byKind = Integer.compare(rank(a), rank(b));
            return byKind != 0 ? byKind : Integer.compare(a, b);
        });
        int last = head;
        for (int node : order) {
            next[last] = node;
            prev[node] = last;
            last = node;
        }
        next[last] = NIL;
    }

    private long time(int node) {
        return (node & 1) == 0 ? ops[node >> 1].call() : end[node >> 1];
    }

    private int rank(int node) {
        return (node & 1) == 0 ? 0 : mandatory[node >> 1] ? 1 : 2;
    }

    private CheckResult.Verdict search() {
        int n = ops.length;
        int remaining = 0;
        for (boolean m : mandatory) {
            if (m) {
                remaining++;
            }
        }
        Set<CacheKey> explored = new HashSet<>();
        // The stack of steps: operation, state before it, hi before it, and whether it was eager.
        int[] stackOps = new int[n];
        Object[] stackStates = new Object[n];
        int[] stackHi = new int[n];
        boolean[] stackEager = new boolean[n];
        int depth = 0;
        S state = model.initialState();
        int hi = 0; // every linearized operation has an index below hi
        int entry = next[head];
        while (remaining > 0) {
            if (!meter.step()) {
                return CheckResult.Verdict.UNKNOWN;
            }
            boolean deadEnd;
            if (entry == NIL || ((entry & 1) == 1 && mandatory[entry >> 1])) {
                // A pending operation's return: it must have taken effect already.
                deadEnd = true;
            } else {
                // A call to try, or the end of an optional operation, which is dropped: taking effect
                // later would be the same as never (see Horizons).
                int candidate = entry >> 1;
                Operation op = ops[candidate];
                boolean drop = (entry & 1) == 1;
                if (!drop && !model.accepts(state, op)) {
                    entry = next[entry];
                    continue;
                }
                S after = drop ? state : model.next(state, op);
                int newHi = Math.max(hi, candidate + 1);
                boolean eager = drop || model.readOnly(op);
                lift(candidate);
                if (explored.add(new CacheKey(newHi, pendingBelow(newHi), after))) {
                    stackOps[depth] = candidate;
                    stackStates[depth] = state;
                    stackHi[depth] = hi;
                    stackEager[depth] = eager;
                    depth++;
                    state = after;
                    hi = newHi;
                    if (mandatory[candidate]) {
                        remaining--;
                    }
                    entry = next[head];
                    continue;
                }
                unlift(candidate);
                // An eager step whose successor already failed dooms this position too.
                deadEnd = eager;
                entry = next[entry];
            }
            if (!deadEnd) {
                continue;
            }
            // Undo the last choice, and keep undoing past eager steps: they were not choices.
            int undone;
            boolean wasEager;
            do {
                if (depth == 0) {
                    return CheckResult.Verdict.ILLEGAL;
                }
                depth--;
                undone = stackOps[depth];
                wasEager = stackEager[depth];
                @SuppressWarnings("unchecked")
                S before = (S) stackStates[depth];
                stackStates[depth] = null;
                state = before;
                hi = stackHi[depth];
                unlift(undone);
                if (mandatory[undone]) {
                    remaining++;
                }
            } while (wasEager);
            entry = next[2 * undone];
        }
        return CheckResult.Verdict.OK;
    }

    /**
     * The indices below {@code hi} of operations not yet linearized, ascending. Their call nodes are
     * still linked and in index order, so the walk stops at the first call at or above {@code hi}.
     */
    private int[] pendingBelow(int hi) {
        int count = 0;
        for (int node = next[head]; node != NIL; node = next[node]) {
            if ((node & 1) == 0) {
                if ((node >> 1) >= hi) {
                    break;
                }
                count++;
            }
        }
        int[] pending = new int[count];
        int i = 0;
        for (int node = next[head]; i < count; node = next[node]) {
            if ((node & 1) == 0) {
                pending[i++] = node >> 1;
            }
        }
        return pending;
    }

    private void lift(int op) {
        unlink(2 * op);
        unlink(2 * op + 1);
    }

    private void unlift(int op) {
        relink(2 * op + 1);
        relink(2 * op);
    }

    private void unlink(int node) {
        next[prev[node]] = next[node];
        if (next[node] != NIL) {
            prev[next[node]] = prev[node];
        }
    }

    private void relink(int node) {
        next[prev[node]] = node;
        if (next[node] != NIL) {
            prev[next[node]] = node;
        }
    }

    /**
     * A memoized search position: operations below {@code hi} except {@code pending} are linearized,
     * none above, and they lead to {@code state}.
     */
    private static final class CacheKey {
        private final int hi;
        private final int[] pending;
        private final Object state;
        private final int hash;

        CacheKey(int hi, int[] pending, Object state) {
            this.hi = hi;
            this.pending = pending;
            this.state = state;
            this.hash = (31 * hi + Arrays.hashCode(pending)) * 31 + Objects.hashCode(state);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof CacheKey other
                    && hash == other.hash
                    && hi == other.hi
                    && Arrays.equals(pending, other.pending)
                    && Objects.equals(state, other.state);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}

package io.raftkv.lincheck;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Shrinks a non-linearizable history of one key to a locally minimal one, with a simplified delta
 * debugging (Zeller, "ddmin"): first try dropping large chunks, then single operations until none
 * can be dropped. Every candidate is re-checked from scratch, so the result is non-linearizable by
 * construction.
 *
 * <p>A drop that could manufacture a violation is refused. Dropping the only write of {@code b}
 * from "put a; put b; get b; get a" leaves "put a; get b; get a", illegal only because {@code b} now
 * seems never written; a human reading it would chase a phantom. So the kept operations must stay
 * <em>closed</em>: no kept operation may {@linkplain #dependsOn depend on} a dropped write. A closed
 * subset of a linearizable history is itself linearizable (restrict the linearization: each kept
 * operation still follows the same last write, since that write is one it depends on; an
 * indeterminate CAS that was a no-op is left out), so every violation the counterexample shows is
 * one among operations that happened, not an artefact of what was dropped. Closure also keeps a
 * writer for every value shown as read, so the reader never has to wonder where a value came from.
 */
final class Shrinker {

    private Shrinker() {
    }

    /** The shrunk history, and whether it is locally minimal (false if the budget ran out first). */
    record Shrunk(List<Operation> history, boolean minimal) {
    }

    /** Shrinks {@code illegal}, which the search must already have found ILLEGAL under {@code model}. */
    static <S> Shrunk shrink(List<Operation> illegal, Model<S> model, Budget.Meter meter) {
        boolean[] kept = new boolean[illegal.size()];
        Arrays.fill(kept, true);
        for (int chunk = illegal.size() / 2; chunk > 1; chunk /= 2) {
            int from = 0;
            while (from < illegal.size()) {
                // Drop the next `chunk` kept operations at or after `from`.
                List<Integer> slice = new ArrayList<>();
                int to = from;
                while (to < illegal.size() && slice.size() < chunk) {
                    if (kept[to]) {
                        slice.add(to);
                    }
                    to++;
                }
                if (slice.isEmpty()) {
                    break;
                }
                CheckResult.Verdict verdict = tryDrop(illegal, kept, slice, model, meter);
                if (verdict == CheckResult.Verdict.UNKNOWN) {
                    return new Shrunk(select(illegal, kept, true), false);
                }
                from = to;
            }
        }
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int i = illegal.size() - 1; i >= 0; i--) {
                if (!kept[i]) {
                    continue;
                }
                CheckResult.Verdict verdict = tryDrop(illegal, kept, List.of(i), model, meter);
                if (verdict == CheckResult.Verdict.UNKNOWN) {
                    return new Shrunk(select(illegal, kept, true), false);
                }
                changed |= verdict == CheckResult.Verdict.ILLEGAL;
            }
        }
        return new Shrunk(select(illegal, kept, true), true);
    }

    /**
     * Drops {@code slice} from {@code kept} if what remains is closed and still illegal (returns
     * ILLEGAL); otherwise leaves {@code kept} as it was and returns OK, or UNKNOWN if out of budget.
     */
    private static <S> CheckResult.Verdict tryDrop(
            List<Operation> history, boolean[] kept, List<Integer> slice, Model<S> model, Budget.Meter meter) {
        for (int i : slice) {
            kept[i] = false;
        }
        List<Operation> candidate = select(history, kept, true);
        CheckResult.Verdict verdict = closed(candidate, select(history, kept, false))
                ? WingGongSearch.run(model.relevant(candidate), model, meter)
                : CheckResult.Verdict.OK;
        if (verdict != CheckResult.Verdict.ILLEGAL) {
            for (int i : slice) {
                kept[i] = true;
            }
        }
        return verdict;
    }

    /**
     * Whether {@code kept} may be shown without {@code dropped}: no operation in {@code kept}
     * {@linkplain #dependsOn depends on} a write in {@code dropped}, and every non-null value that a
     * kept operation reads or a kept CAS expects still has a kept writer called no later than that operation
     * returned, if it had one at all. The second rule is for the reader, not for soundness: "put b;
     * get a" is a real stale read once "put a; put b" are known to be ordered, but it looks like a
     * read of a value nobody wrote.
     */
    static boolean closed(List<Operation> kept, List<Operation> dropped) {
        // barrier(o) = latest call among kept definite writes that returned before o was called.
        List<Operation> definiteWrites = kept.stream().filter(Shrinker::definitelyWrites)
                .sorted((a, b) -> Long.compare(a.ret(), b.ret()))
                .toList();
        long[] rets = new long[definiteWrites.size()];
        long[] maxCallSoFar = new long[definiteWrites.size()];
        long max = Long.MIN_VALUE;
        for (int i = 0; i < rets.length; i++) {
            rets[i] = definiteWrites.get(i).ret();
            max = Math.max(max, definiteWrites.get(i).call());
            maxCallSoFar[i] = max;
        }
        for (Operation observer : kept) {
            if (observer.kind() != OpKind.GET && observer.kind() != OpKind.CAS) {
                continue;
            }
            String observed = observer.kind() == OpKind.GET ? observer.output() : observer.expected();
            boolean constrains = observer.kind() == OpKind.GET
                    ? !observer.indeterminate()
                    : observer.ok() || observer.indeterminate();
            if (constrains && observed != null
                    && !hasWriterOf(observed, kept, observer) && hasWriterOf(observed, dropped, observer)) {
                return false;
            }
            int before = lowerBound(rets, observer.call()) - 1;
            long barrier = before < 0 ? Long.MIN_VALUE : maxCallSoFar[before];
            for (Operation write : dropped) {
                if (dependsOn(observer, write, barrier)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Whether {@code observer}'s reported output may rely on {@code write} being the last write before
     * it: {@code write} can change the state, the output matches what {@code write} leaves (a read of
     * its value, a CAS expecting it, or a failed CAS expecting something else), {@code write} was
     * called no later than {@code observer} returned, and {@code write} returned before {@code barrier}, the
     * call time of some definite write that precedes {@code observer} in real time.
     */
    static boolean dependsOn(Operation observer, Operation write, long barrier) {
        if (!canWrite(write) || write.call() > observer.ret() || write.ret() < barrier) {
            return false;
        }
        String written = write.kind() == OpKind.DELETE ? null : write.value();
        return switch (observer.kind()) {
            case GET -> !observer.indeterminate() && Objects.equals(observer.output(), written);
            case CAS -> observer.indeterminate() || observer.ok()
                    ? Objects.equals(observer.expected(), written)
                    : !Objects.equals(observer.expected(), written);
            case PUT, DELETE -> false;
        };
    }

    private static boolean hasWriterOf(String value, List<Operation> ops, Operation observer) {
        for (Operation op : ops) {
            if (canWrite(op) && value.equals(op.value()) && op.call() <= observer.ret()) {
                return true;
            }
        }
        return false;
    }

    private static boolean canWrite(Operation op) {
        return switch (op.kind()) {
            case GET -> false;
            case PUT, DELETE -> true;
            case CAS -> op.indeterminate() || op.ok();
        };
    }

    private static boolean definitelyWrites(Operation op) {
        return !op.indeterminate() && canWrite(op);
    }

    /** The first index whose value is at least {@code key}; {@code sorted.length} if none. */
    private static int lowerBound(long[] sorted, long key) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < key) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static List<Operation> select(List<Operation> history, boolean[] kept, boolean which) {
        List<Operation> out = new ArrayList<>();
        for (int i = 0; i < history.size(); i++) {
            if (kept[i] == which) {
                out.add(history.get(i));
            }
        }
        return out;
    }
}

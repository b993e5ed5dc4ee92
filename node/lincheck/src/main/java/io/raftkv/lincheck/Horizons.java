package io.raftkv.lincheck;

import java.util.List;

/**
 * When each operation of one key's history stops mattering to the search. A <em>mandatory</em>
 * operation must take effect before {@code end[i]}; meeting that time with it still pending is a dead
 * end. An optional one may take effect before {@code end[i]} or never: meeting that time with it
 * still pending drops it, as if it never took effect. {@code end[i] == Long.MIN_VALUE} on an optional
 * operation means it can be dropped up front.
 *
 * @param end       per operation, the time described above
 * @param mandatory per operation, whether it must take effect
 */
record Horizons(long[] end, boolean[] mandatory) {

    /** The plain reading of the {@link Operation} contract: completed ops end at their return, indeterminate ones never. */
    static Horizons plain(List<Operation> ops) {
        long[] end = new long[ops.size()];
        boolean[] mandatory = new boolean[ops.size()];
        for (int i = 0; i < ops.size(); i++) {
            end[i] = ops.get(i).ret();
            mandatory[i] = !ops.get(i).indeterminate();
        }
        return new Horizons(end, mandatory);
    }
}

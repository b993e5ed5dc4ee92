package io.raftkv.lincheck;

import java.util.List;

/**
 * A sequential specification of one key: the states it can be in and how each {@link Operation}
 * moves between them. The checker asks whether some order of a history's operations, consistent
 * with real time, is a legal run of this specification.
 *
 * <p>Implementations must be pure and deterministic, and states must be immutable values with
 * {@code equals}/{@code hashCode} (the search memoizes on them). {@code null} is a valid state.
 *
 * @param <S> the state type
 */
public interface Model<S> {

    /** The state of a key before any operation. */
    S initialState();

    /**
     * Whether {@code op}, with the output it reported, can take effect in {@code state}. For an
     * {@linkplain Operation#indeterminate() indeterminate} operation the output is unconstrained.
     */
    boolean accepts(S state, Operation op);

    /** The state after {@code op} takes effect in {@code state}; called only when {@link #accepts} is true. */
    S next(S state, Operation op);

    /**
     * Whether {@code op} never changes the state ({@code next(s, op).equals(s)} whenever
     * {@code accepts(s, op)}). The search linearizes such an operation as soon as it is legal, without
     * trying later points: moving a read-only operation earlier, to a point where it is legal and that
     * lies inside its interval, changes no other operation's view. The default, false, is always safe.
     */
    default boolean readOnly(Operation op) {
        return false;
    }

    /**
     * Returns the operations of one key's history that can affect the verdict, in any order. The
     * default keeps everything; an override may drop operations only if that never changes whether
     * the history is linearizable.
     */
    default List<Operation> relevant(List<Operation> keyHistory) {
        return keyHistory;
    }
}

package io.raftkv.lincheck;

/** The kinds of key-value operation a history may contain; see {@link Operation} for each kind's fields. */
public enum OpKind {
    /** Reads the key; {@link Operation#output()} is the value read, {@code null} when absent. */
    GET,
    /** Writes {@link Operation#value()} unconditionally. */
    PUT,
    /**
     * Compare-and-set: if the current value equals {@link Operation#expected()} ({@code null} = absent),
     * sets {@link Operation#value()}; {@link Operation#ok()} says whether it did.
     */
    CAS,
    /** Makes the key absent. */
    DELETE
}

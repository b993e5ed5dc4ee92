package io.raftkv.lincheck;

import java.util.Objects;

/**
 * One client operation on one key, as observed from the client: the interval between invocation
 * ({@code call}) and response ({@code ret}), the input, and the output.
 *
 * <p>Field use by kind ({@code null} means "absent" wherever a value appears):
 * <ul>
 *   <li>{@link OpKind#GET}: {@code output} is the value read; {@code value} and {@code expected} are null.
 *   <li>{@link OpKind#PUT}: {@code value} (non-null) is written; {@code output} is ignored.
 *   <li>{@link OpKind#DELETE}: makes the key absent; {@code value} is null.
 *   <li>{@link OpKind#CAS}: if the current value equals {@code expected} (null = the key is absent),
 *       {@code value} (non-null) is written; {@code ok} says whether the comparison held. A CAS with
 *       {@code ok = false} is a real observation ("the value was not {@code expected}"), not an error.
 * </ul>
 *
 * <p>Outcomes. A completed operation has {@code ret} strictly greater than {@code call} and took
 * effect atomically at some instant inside {@code [call, ret]}. An <em>indeterminate</em> operation
 * (timed out, connection lost) has {@code ret == }{@link #INDETERMINATE}: it may have taken effect at
 * any instant after {@code call}, or never; its {@code output} and {@code ok} carry no constraint.
 * A GET, PUT or DELETE with {@code ok = false} <em>definitely failed</em> (rejected before it could
 * take effect, e.g. "not leader"); the checker ignores it. Recording such an operation is optional.
 *
 * <p>Times are any monotonic clock shared by all clients: logical ticks from a simulator or
 * {@link System#nanoTime()} from one process. Intervals that merely touch ({@code a.ret == b.call})
 * count as concurrent, which never causes a false "illegal" verdict.
 *
 * @param clientId the client (process) that issued the operation; used only in descriptions
 * @param key      the key operated on; never null
 * @param kind     the operation kind; never null
 * @param value    the value a PUT or CAS writes; null otherwise
 * @param expected the value a CAS compares against (null = absent); null for other kinds
 * @param output   the value a GET returned (null = absent); null for other kinds
 * @param ok       for CAS, whether it swapped; for other kinds, false means it definitely failed
 * @param call     invocation time
 * @param ret      response time, strictly after {@code call}, or {@link #INDETERMINATE}
 */
public record Operation(
        int clientId,
        String key,
        OpKind kind,
        String value,
        String expected,
        String output,
        boolean ok,
        long call,
        long ret) {

    /** The {@code ret} of an operation whose outcome is unknown: it may take effect at any time after its call. */
    public static final long INDETERMINATE = Long.MAX_VALUE;

    /** Validates field use by kind; throws {@link IllegalArgumentException} naming the bad field. */
    public Operation {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(kind, "kind");
        if (ret <= call) {
            throw new IllegalArgumentException(
                    "operation must return after it is called: call=" + call + " ret=" + ret + " (" + kind + " " + key + ")");
        }
        switch (kind) {
            case GET, DELETE -> {
                if (value != null || expected != null) {
                    throw new IllegalArgumentException(kind + " takes no value or expected: " + key);
                }
            }
            case PUT -> {
                if (value == null || expected != null) {
                    throw new IllegalArgumentException("PUT needs a non-null value and no expected: " + key);
                }
            }
            case CAS -> {
                if (value == null) {
                    throw new IllegalArgumentException("CAS needs a non-null value: " + key);
                }
            }
        }
        if (kind != OpKind.GET && output != null) {
            throw new IllegalArgumentException(kind + " has no output: " + key);
        }
    }

    /** A completed read of {@code key} that returned {@code output} ({@code null} = absent). */
    public static Operation get(int clientId, String key, String output, long call, long ret) {
        return new Operation(clientId, key, OpKind.GET, null, null, output, true, call, ret);
    }

    /** A write of {@code value}; pass {@link #INDETERMINATE} as {@code ret} if the outcome is unknown. */
    public static Operation put(int clientId, String key, String value, long call, long ret) {
        return new Operation(clientId, key, OpKind.PUT, value, null, null, true, call, ret);
    }

    /** A delete; pass {@link #INDETERMINATE} as {@code ret} if the outcome is unknown. */
    public static Operation delete(int clientId, String key, long call, long ret) {
        return new Operation(clientId, key, OpKind.DELETE, null, null, null, true, call, ret);
    }

    /**
     * A compare-and-set from {@code expected} ({@code null} = absent) to {@code value} that reported
     * {@code ok}; pass {@link #INDETERMINATE} as {@code ret} if the outcome is unknown ({@code ok} is then ignored).
     */
    public static Operation cas(int clientId, String key, String expected, String value, boolean ok, long call, long ret) {
        return new Operation(clientId, key, OpKind.CAS, value, expected, null, ok, call, ret);
    }

    /** True if the outcome is unknown: the operation may have taken effect at any time after its call, or never. */
    public boolean indeterminate() {
        return ret == INDETERMINATE;
    }

    /** True if the client was told the operation definitely did not take effect (see the class comment). */
    public boolean definitelyFailed() {
        return !ok && kind != OpKind.CAS && !indeterminate();
    }

    /** A copy with {@code ret} set to {@link #INDETERMINATE}, as if the client had timed out. */
    public Operation asIndeterminate() {
        return new Operation(clientId, key, kind, value, expected, output, ok, call, INDETERMINATE);
    }

    /** A one-line human-readable form, e.g. {@code c3 CAS x v1->v2 ok [10, 17]}. */
    public String describe() {
        String body = switch (kind) {
            case GET -> "GET " + key + (indeterminate() ? " -> ?" : " -> " + show(output));
            case PUT -> "PUT " + key + " = " + show(value);
            case DELETE -> "DELETE " + key;
            case CAS -> "CAS " + key + " " + show(expected) + "->" + show(value)
                    + (indeterminate() ? " ?" : ok ? " ok" : " failed");
        };
        if (definitelyFailed()) {
            body += " (failed)";
        }
        return "c" + clientId + " " + body + " [" + call + ", " + (indeterminate() ? "inf" : Long.toString(ret)) + "]";
    }

    private static String show(String v) {
        return v == null ? "<absent>" : v;
    }
}

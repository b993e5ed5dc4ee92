/**
 * A linearizability checker for key-value histories, used by the Raft simulator's tests and by the
 * end-to-end harness.
 *
 * <p>Contract: record every operation a client issued as an {@link io.raftkv.lincheck.Operation} with
 * its invocation and response times on one monotonic clock; an operation whose outcome the client
 * never learned gets {@code ret = Operation.INDETERMINATE} (it may have taken effect at any time
 * after its call, or never). {@link io.raftkv.lincheck.LinearizabilityChecker#check} then answers
 * OK (some order consistent with real time explains every output, starting from all keys absent),
 * ILLEGAL (none does; the result names the key and a locally minimal counterexample), or UNKNOWN
 * (the {@link io.raftkv.lincheck.Budget} ran out, as it may: the problem is NP-complete). It is
 * sound in both directions: OK and ILLEGAL are exact, never heuristics.
 *
 * <p>Pure Java with no dependencies, threads or global state; every method is safe to call from any
 * thread.
 */
package io.raftkv.lincheck;

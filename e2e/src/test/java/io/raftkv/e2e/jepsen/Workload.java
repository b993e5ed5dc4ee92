package io.raftkv.e2e.jepsen;

import java.time.Duration;
import java.util.List;

/**
 * One kind of client load with its own correctness check. The run calls {@link #start} once with
 * the cluster up, {@link #stop} once the faults are over and the cluster healed, then
 * {@link #check} once. A workload records every request's latency in the shared {@link History};
 * the operations it hands to the linearizability checker are its own business.
 *
 * <p>A workload that needs a service the server does not offer (gRPC UNIMPLEMENTED, e.g. Watch or
 * Lease on a server that does not serve them yet) reports {@link Verdict#SKIPPED} with the server's
 * message instead of failing.
 */
interface Workload {

    /** Short name for the report, e.g. "register". */
    String name();

    /** Starts the client threads; returns at once. */
    void start(JepsenCluster cluster, History history, long seed);

    /** Stops the client threads and waits for them; outstanding requests are recorded as indeterminate. */
    void stop() throws InterruptedException;

    /** Checks what the clients saw (and may read the healed cluster's final state), within {@code budget}. */
    Result check(JepsenCluster cluster, Duration budget) throws Exception;

    /** The outcome of a check. */
    enum Verdict { PASS, FAIL, UNKNOWN, SKIPPED }

    /**
     * A workload's verdict for the report.
     *
     * @param workload the {@link #name()}
     * @param verdict  the outcome
     * @param summary  one line: counts and the verdict in words
     * @param details  further lines (a counterexample, lost keys); empty when there is nothing more
     */
    record Result(String workload, Verdict verdict, String summary, List<String> details) {
    }
}

package io.raftkv.e2e.jepsen;

import io.raftkv.lincheck.Operation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * What the clients of one run did and saw, on one clock ({@link System#nanoTime()} relative to the
 * start of the run): the operations for the linearizability checker, and one latency sample per
 * request for the plot. Thread-safe; many client threads record at once.
 */
final class History {

    /** How a request ended, as the client saw it. */
    enum Outcome {
        /** The server answered. */
        OK,
        /** The server or the transport reported an error: the outcome may still be unknown. */
        ERROR,
        /** No answer within the client's timeout: the outcome is unknown. */
        TIMEOUT
    }

    /**
     * One request: when it was sent, how long until the client knew the outcome (or gave up), and
     * which workload and operation it was.
     *
     * @param atNanos      call time, nanoseconds since the run's origin
     * @param latencyNanos time from call to answer or give-up
     * @param label        e.g. "register GET"
     * @param outcome      how it ended
     */
    record Sample(long atNanos, long latencyNanos, String label, Outcome outcome) {
    }

    private final long origin;
    private final ConcurrentLinkedQueue<Operation> operations = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
    private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.LongAdder> errors =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** A history whose clock starts now. */
    History() {
        this(System.nanoTime());
    }

    /** A history whose clock counts from {@code originNanos} ({@link System#nanoTime()} scale). */
    History(long originNanos) {
        this.origin = originNanos;
    }

    /** Nanoseconds since the origin; strictly increasing across calls is not guaranteed, monotonic is. */
    long now() {
        return System.nanoTime() - origin;
    }

    /** Records a checked operation and its latency sample; {@code givenUpAt} matters when {@code op} is indeterminate. */
    void record(Operation op, long givenUpAt, String label, Outcome outcome) {
        operations.add(op);
        sample(op.call(), givenUpAt, label, outcome);
    }

    /** Records only a latency sample, for requests that the linearizability checker does not see. */
    void sample(long call, long end, String label, Outcome outcome) {
        samples.add(new Sample(call, Math.max(0, end - call), label, outcome));
    }

    /** Counts one client-side error by its message (the first 100 characters), for the report. */
    void error(String label, String message) {
        String m = label + ": " + (message.length() > 100 ? message.substring(0, 100) : message);
        errors.computeIfAbsent(m, k -> new java.util.concurrent.atomic.LongAdder()).increment();
    }

    /** Error messages and how often each was seen, most frequent first. */
    List<Map.Entry<String, Long>> errors() {
        List<Map.Entry<String, Long>> out = new ArrayList<>();
        errors.forEach((m, n) -> out.add(Map.entry(m, n.sum())));
        out.sort(Map.Entry.<String, Long>comparingByValue().reversed());
        return out;
    }

    /** The operations recorded so far, in call order. */
    List<Operation> operations() {
        List<Operation> out = new ArrayList<>(operations);
        out.sort(Comparator.comparingLong(Operation::call));
        return out;
    }

    /** The latency samples recorded so far, in call order. */
    List<Sample> samples() {
        List<Sample> out = new ArrayList<>(samples);
        out.sort(Comparator.comparingLong(Sample::atNanos));
        return out;
    }
}

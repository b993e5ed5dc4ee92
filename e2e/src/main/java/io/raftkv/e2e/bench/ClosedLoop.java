package io.raftkv.e2e.bench;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One closed-loop client: exactly one request in flight; its answer calls {@link #next()}, which
 * sends the next request (paced by {@code --rate} over all clients) or, once the run's total or
 * duration is reached, counts the client down as done. Callbacks may run on any thread.
 */
abstract class ClosedLoop {
    private static final long RETRY_DELAY_MILLIS = 10;
    private final BenchOptions opt;
    private final Bench bench;
    private final ScheduledExecutorService timer;
    private final AtomicLong issued;
    private final long t0;
    private final long total;
    private final long endNanos;
    private final CountDownLatch done;

    /**
     * A client sharing {@code issued} (the phase's request counter) and {@code done} with the
     * others; the phase ends after {@code total} requests, or at {@code endNanos} when total is 0.
     */
    ClosedLoop(BenchOptions opt, Bench bench, ScheduledExecutorService timer, AtomicLong issued, long t0,
               long total, long endNanos, CountDownLatch done) {
        this.opt = opt;
        this.bench = bench;
        this.timer = timer;
        this.issued = issued;
        this.t0 = t0;
        this.total = total;
        this.endNanos = endNanos;
        this.done = done;
    }

    /** Sends the next request, now or at its rate slot, or finishes this client. */
    final void next() {
        long n = issued.incrementAndGet();
        long now = System.nanoTime();
        if (bench.unsupported != null || (total > 0 ? n > total : now >= endNanos)) {
            done.countDown();
            return;
        }
        if (opt.rate() > 0) {
            long slot = t0 + (long) ((n - 1) * 1e9 / opt.rate());
            if (slot > now) {
                timer.schedule(this::send, slot - now, TimeUnit.NANOSECONDS);
                return;
            }
        }
        send();
    }

    /** Counts a failed request and sends the next one after a short pause (no hot error loop). */
    final void failedThenNext(Throwable t) {
        bench.failed(t);
        timer.schedule(this::next, RETRY_DELAY_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Sends one request whose completion calls {@link #next()} or {@link #failedThenNext}. */
    abstract void send();
}

package io.raftkv.e2e.jepsen;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;

/**
 * The client threads of one workload: each runs a loop body until {@link #stop()}, and each
 * request waits for its answer at most {@code timeout}. Shared by the workloads so that every one
 * treats timeouts and errors the same way.
 */
final class ClientThreads {
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopped;

    /** Starts {@code count} daemon threads named {@code name-i}, each calling {@code body(i)} until stopped. */
    void start(String name, int count, IntConsumer body) {
        for (int i = 0; i < count; i++) {
            int client = i;
            Thread t = new Thread(() -> {
                while (!stopped) {
                    body.accept(client);
                }
            }, name + "-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /** True once {@link #stop()} was called. */
    boolean stopped() {
        return stopped;
    }

    /** Asks every thread to finish its current request and waits up to 30 s for each. */
    void stop() throws InterruptedException {
        stopped = true;
        for (Thread t : threads) {
            t.join(30_000);
        }
    }

    /**
     * Waits for {@code future} at most {@code timeoutMs}; returns its value, or throws {@link Failed}
     * with the outcome the client saw. A timed-out future is cancelled.
     */
    static <T> T await(CompletableFuture<T> future, long timeoutMs) throws Failed {
        try {
            return future.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new Failed(History.Outcome.TIMEOUT, "timeout", null);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new Failed(History.Outcome.ERROR, String.valueOf(cause.getMessage()), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed(History.Outcome.ERROR, "interrupted", e);
        }
    }

    /**
     * A request that got no answer ({@link History.Outcome#TIMEOUT}) or an error
     * ({@link History.Outcome#ERROR}, with the client's exception as the cause).
     */
    static final class Failed extends Exception {
        private final History.Outcome outcome;

        Failed(History.Outcome outcome, String message, Throwable cause) {
            super(message, cause, false, false);
            this.outcome = outcome;
        }

        History.Outcome outcome() {
            return outcome;
        }

        /**
         * True if the request never reached a server: the connection was refused (the member is
         * down). Only then is a write known not to have taken effect; an error after the request was
         * sent (reset, "leader changed", a timeout) leaves it indeterminate.
         */
        boolean neverSent() {
            for (Throwable c = getCause(); c != null; c = c.getCause()) {
                if (c instanceof java.net.ConnectException) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Sleeps {@code ms} after a failed request, so a client of a dead node does not spin. */
    static void backOff(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package io.raftkv.lincheck;

import java.time.Duration;
import java.util.Objects;

/**
 * How much work one {@link LinearizabilityChecker#check} call may do before answering
 * {@link CheckResult.Verdict#UNKNOWN}. Checking linearizability is NP-complete, so every call needs
 * a bound. The budget covers the whole call: every key and the shrinking of a counterexample.
 *
 * <p>A step bound makes the verdict a pure function of the history, which a seeded simulation needs
 * to replay a failure exactly; a time bound does not, and suits an end-to-end harness.
 *
 * @param timeout  wall-clock limit, measured with {@link System#nanoTime()}; must be positive
 * @param maxSteps limit on search steps (one step tries or undoes one operation); must be positive
 */
public record Budget(Duration timeout, long maxSteps) {

    /** No practical limit; use only for histories known to be small. */
    public static final Budget UNLIMITED = new Budget(Duration.ofNanos(Long.MAX_VALUE), Long.MAX_VALUE);

    /** Validates that both limits are positive. */
    public Budget {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        if (maxSteps <= 0) {
            throw new IllegalArgumentException("maxSteps must be positive: " + maxSteps);
        }
    }

    /** A budget bounded only by wall-clock time. */
    public static Budget ofTimeout(Duration timeout) {
        return new Budget(timeout, Long.MAX_VALUE);
    }

    /** A budget bounded only by search steps, so that the verdict is deterministic. */
    public static Budget ofSteps(long maxSteps) {
        return new Budget(UNLIMITED.timeout, maxSteps);
    }

    /** Starts spending this budget now. */
    Meter start() {
        return new Meter(this);
    }

    /** The running account of one check call; not thread-safe. */
    static final class Meter {
        private static final int CLOCK_CHECK_INTERVAL_STEPS = 1024;

        private final long startNanos;
        private final long timeoutNanos;
        private long stepsLeft;
        private int untilClockCheck = CLOCK_CHECK_INTERVAL_STEPS;
        private boolean exhausted;

        private Meter(Budget budget) {
            startNanos = System.nanoTime();
            timeoutNanos = saturatedNanos(budget.timeout);
            stepsLeft = budget.maxSteps;
        }

        /** Spends one step; returns false once the budget is exhausted (and from then on). */
        boolean step() {
            if (exhausted) {
                return false;
            }
            if (--stepsLeft < 0) {
                exhausted = true;
                return false;
            }
            if (--untilClockCheck == 0) {
                untilClockCheck = CLOCK_CHECK_INTERVAL_STEPS;
                if (System.nanoTime() - startNanos >= timeoutNanos) {
                    exhausted = true;
                    return false;
                }
            }
            return true;
        }

        private static long saturatedNanos(Duration d) {
            try {
                return d.toNanos();
            } catch (ArithmeticException overflow) {
                return Long.MAX_VALUE;
            }
        }
    }
}

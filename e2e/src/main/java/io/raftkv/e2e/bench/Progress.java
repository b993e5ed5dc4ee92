package io.raftkv.e2e.bench;

import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar redrawn on stdout four times a second; a no-op unless the options ask
 * for it (by default only when stdout is a terminal, so that logs and pipes stay clean).
 */
final class Progress {
    private static final int WIDTH = 30;
    private final ScheduledFuture<?> task;

    private Progress(ScheduledFuture<?> task) {
        this.task = task;
    }

    /** Starts drawing progress of {@code done} towards the options' total or duration. */
    static Progress start(BenchOptions opt, LongSupplier done, ScheduledExecutorService timer) {
        if (!opt.progress()) {
            return new Progress(null);
        }
        long t0 = System.nanoTime();
        long[] last = {0, t0};
        ScheduledFuture<?> f = timer.scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            long n = done.getAsLong();
            double frac = opt.byCount() ? (double) n / opt.total()
                    : (double) (now - t0) / Math.max(1, opt.duration().toNanos());
            frac = Math.max(0, Math.min(1, frac));
            double rate = (n - last[0]) * 1e9 / Math.max(1, now - last[1]);
            last[0] = n;
            last[1] = now;
            int filled = (int) (frac * WIDTH);
            System.out.printf(Locale.ROOT, "\r[%s%s] %3d%%  %d done  %.0f/s   ",
                    "#".repeat(filled), " ".repeat(WIDTH - filled), (int) (frac * 100), n, rate);
            System.out.flush();
        }, 250, 250, TimeUnit.MILLISECONDS);
        return new Progress(f);
    }

    /** Stops drawing and ends the line. */
    void stop() {
        if (task != null) {
            task.cancel(false);
            System.out.print("\r" + " ".repeat(WIDTH + 40) + "\r");
            System.out.flush();
        }
    }
}

package io.raftkv.server.lease;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The thread that looks at the lessor's clock every period and hands what is due (expired
 * leases, checkpoints) to a {@link Proposer}. It only proposes: the lease disappears when the
 * revoke is applied, on every replica alike.
 */
public final class LessorLoop implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LessorLoop.class.getName());

    /** Proposes lessor decisions through the log. Must not block; may fail the proposal later. */
    public interface Proposer {
        /** Proposes revoking expired lease {@code id}, only while still leader of {@code term}. */
        void revoke(long term, long id);

        /** Proposes one checkpoint entry carrying {@code remainingTtlSeconds}, leader of {@code term} only. */
        void checkpoint(long term, Map<Long, Long> remainingTtlSeconds);
    }

    private final Lessor lessor;
    private final Proposer proposer;
    private final ScheduledExecutorService thread;

    /** Starts looking every {@code periodMillis} on a thread named {@code raftkv-lessor}. */
    public LessorLoop(Lessor lessor, Proposer proposer, long periodMillis) {
        this.lessor = lessor;
        this.proposer = proposer;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "raftkv-lessor");
            t.setDaemon(true);
            return t;
        });
        thread.scheduleWithFixedDelay(this::runOnce, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** One look: proposes every revoke and the checkpoint batch the lessor reports due. */
    void runOnce() {
        try {
            Lessor.Work w = lessor.poll();
            List<Long> revokes = w.revokes();
            for (long id : revokes) {
                proposer.revoke(w.term(), id);
            }
            if (!w.checkpoints().isEmpty()) {
                proposer.checkpoint(w.term(), w.checkpoints());
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "lessor check failed; will look again", e);
        }
    }

    /** Stops the thread. */
    @Override
    public void close() {
        thread.shutdownNow();
    }
}

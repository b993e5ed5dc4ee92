package io.raftkv.server.lease;

import io.raftkv.mvcc.Lease;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The leader's lease clock: for each lease the monotonic instant at which it expires. Only a
 * primary lessor (one promoted on the leader) holds expiries, renews leases, reports expired
 * leases and schedules checkpoints; a demoted lessor holds nothing and revokes nothing.
 *
 * <p>Rules (etcd's lessor, plus the fix for etcd #15247):
 * <ul>
 *   <li>Promotion: every stored lease expires at now + its checkpointed remaining TTL + the
 *       extension (an election timeout), so a leader change never revokes live leases at once.</li>
 *   <li>A pause: when the clock jumped more than the pause threshold since the lessor last looked
 *       (the process was stopped, or starved), every lease is given at least the extension from
 *       now before it may expire, because keep-alives could not be served meanwhile.</li>
 *   <li>Expiry never fires before the TTL: a lease is expired only once its expiry instant has
 *       passed; revokes are rate limited (etcd's leaseRevokeRate) and an expired lease whose revoke
 *       did not take effect is reported again after the retry interval.</li>
 *   <li>Checkpoints: a lease with a TTL longer than the checkpoint interval has its remaining TTL
 *       (rounded up) checkpointed every interval when that lowers the stored value (the first one
 *       as soon as possible after a promotion), and promptly after a renewal when the stored
 *       value is below the TTL (etcd resets the checkpoint on renew), rate limited.</li>
 * </ul>
 *
 * <p>Thread-safe: every method is synchronized and short; none blocks.
 */
public final class Lessor {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    /**
     * Tuning, all durations in nanoseconds.
     *
     * @param extendNanos             added to every lease on promotion and after a pause
     * @param pauseThresholdNanos     a gap between two looks at the clock above this is a pause
     * @param checkpointIntervalNanos how often a long lease's remaining TTL is checkpointed
     * @param revokesPerSecond        etcd's leaseRevokeRate
     * @param checkpointsPerSecond    etcd's leaseCheckpointRate
     * @param revokeRetryNanos        when an expired lease is reported again if still present
     */
    public record Settings(long extendNanos, long pauseThresholdNanos, long checkpointIntervalNanos,
                           int revokesPerSecond, int checkpointsPerSecond, long revokeRetryNanos) {
        /** Checks the values. */
        public Settings {
            if (extendNanos < 0 || pauseThresholdNanos <= 0 || checkpointIntervalNanos <= 0
                    || revokesPerSecond <= 0 || checkpointsPerSecond <= 0 || revokeRetryNanos <= 0) {
                throw new IllegalArgumentException("invalid lessor settings: " + this);
            }
        }

        /**
         * The node's settings: extension and pause threshold one (maximum randomized) election
         * timeout, checkpoints every 5 s, etcd's rates (1000 revokes/s, 1000 checkpoints/s) and
         * retry interval (3 s).
         */
        public static Settings forElectionTimeout(long electionTimeoutMillis) {
            long extend = TimeUnit.MILLISECONDS.toNanos(electionTimeoutMillis);
            return new Settings(extend, Math.max(extend, TimeUnit.MILLISECONDS.toNanos(500)),
                    TimeUnit.SECONDS.toNanos(5), 1000, 1000, TimeUnit.SECONDS.toNanos(3));
        }
    }

    /** Thrown by the leader-only operations of a lessor that is not primary. */
    public static final class NotPrimaryException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotPrimaryException() {
            super("lessor is not primary", null, false, false);
        }
    }

    /** One lease as the primary tracks it. */
    private static final class Tracked {
        final long id;
        final long ttlSeconds;
        long expiry;
        long persistedRemainingSeconds;
        long lastCheckpoint;
        boolean renewedSinceCheckpoint;
        long revokeRetryAt = Long.MIN_VALUE;

        Tracked(long id, long ttlSeconds, long expiry, long persistedRemainingSeconds, long now) {
            this.id = id;
            this.ttlSeconds = ttlSeconds;
            this.expiry = expiry;
            this.persistedRemainingSeconds = persistedRemainingSeconds;
            this.lastCheckpoint = now;
        }
    }

    private final LongSupplier clock;
    private final Settings settings;
    private final Map<Long, Tracked> leases = new HashMap<>();
    private boolean primary;
    private long term;
    private long lastLook;
    private double revokeTokens;
    private double checkpointTokens;
    private long lastRefill;
    private long pausesSeen;

    /** A demoted lessor reading time from {@code clock} (monotonic nanoseconds). */
    public Lessor(LongSupplier clock, Settings settings) {
        this.clock = clock;
        this.settings = settings;
    }

    /**
     * Becomes primary for leader term {@code term}: every lease in {@code stored} expires at now +
     * its checkpointed remaining TTL + the extension (etcd's Promote(extend)).
     */
    public synchronized void promote(long term, Collection<Lease> stored) {
        long now = clock.getAsLong();
        leases.clear();
        for (Lease l : stored) {
            long remaining = Math.min(l.remainingTtlSeconds() > 0 ? l.remainingTtlSeconds() : l.ttlSeconds(),
                    l.ttlSeconds());
            // Checkpoint due at once: leader changes more frequent than the interval must not
            // starve checkpoints (one is proposed as soon as the remaining TTL drops below it).
            leases.put(l.id(), new Tracked(l.id(), l.ttlSeconds(),
                    after(after(now, seconds(remaining)), settings.extendNanos()), l.remainingTtlSeconds(),
                    now - settings.checkpointIntervalNanos()));
        }
        primary = true;
        this.term = term;
        lastLook = now;
        lastRefill = now;
        revokeTokens = 0;
        checkpointTokens = 0;
    }

    /** Stops being primary: forgets every expiry, so nothing is renewed or revoked any more. */
    public synchronized void demote() {
        primary = false;
        leases.clear();
    }

    /** Whether this lessor is primary (promoted and not demoted since). */
    public synchronized boolean isPrimary() {
        return primary;
    }

    /** The leader term of the last promotion. */
    public synchronized long term() {
        return term;
    }

    /** How many pauses (clock jumps above the threshold) a primary has seen; for tests and logs. */
    public synchronized long pausesSeen() {
        return pausesSeen;
    }

    /**
     * A grant was applied. A primary starts the lease's clock at the full TTL; an existing lease
     * (an entry replayed after promotion) keeps its clock.
     */
    public synchronized void granted(long id, long ttlSeconds) {
        if (!primary || leases.containsKey(id)) {
            return;
        }
        long now = look();
        leases.put(id, new Tracked(id, ttlSeconds, after(now, seconds(ttlSeconds)), ttlSeconds, now));
    }

    /** A revoke was applied: the lease is gone. */
    public synchronized void revoked(long id) {
        leases.remove(id);
    }

    /**
     * A checkpoint was applied: records what the store now holds, so that checkpoints are only
     * proposed when they would change it. The expiry itself is not moved: the primary's clock is
     * at least as late as any checkpoint taken before it.
     */
    public synchronized void checkpointed(long id, long remainingTtlSeconds) {
        Tracked t = leases.get(id);
        if (t != null) {
            t.persistedRemainingSeconds = remainingTtlSeconds;
        }
    }

    /**
     * Renews lease {@code id} (a keep-alive): it expires a full TTL from now. Returns the granted
     * TTL, or empty when the lease is unknown or already expired (its revoke is on its way).
     *
     * @throws NotPrimaryException if this lessor is not primary (the caller forwards to the leader)
     */
    public synchronized OptionalLong renew(long id) {
        long now = look();
        Tracked t = leases.get(id);
        if (t == null || t.expiry <= now) {
            return OptionalLong.empty();
        }
        t.expiry = after(now, seconds(t.ttlSeconds));
        t.renewedSinceCheckpoint = true;
        t.revokeRetryAt = Long.MIN_VALUE;
        return OptionalLong.of(t.ttlSeconds);
    }

    /**
     * The remaining time of lease {@code id} in nanoseconds (negative once expired), or empty when
     * unknown.
     *
     * @throws NotPrimaryException if this lessor is not primary
     */
    public synchronized OptionalLong remainingNanos(long id) {
        long now = look();
        Tracked t = leases.get(id);
        return t == null ? OptionalLong.empty() : OptionalLong.of(t.expiry - now);
    }

    /**
     * What a primary should propose now, for the leader term it was promoted in.
     *
     * @param term        the term the proposals must be made in
     * @param revokes     expired leases (see {@link #expired()})
     * @param checkpoints remaining TTLs to checkpoint (see {@link #checkpoints()})
     */
    public record Work(long term, List<Long> revokes, Map<Long, Long> checkpoints) {
    }

    /** The expired leases and due checkpoints in one look; empty (term 0) when not primary. */
    public synchronized Work poll() {
        if (!primary) {
            return new Work(0, List.of(), Map.of());
        }
        return new Work(term, expired(), checkpoints());
    }

    /**
     * The expired leases to revoke now, earliest expiry first, at most what the revoke rate allows
     * since the last call. Each one reported is not reported again before the retry interval.
     * Empty when not primary.
     */
    public synchronized List<Long> expired() {
        if (!primary) {
            return List.of();
        }
        long now = look();
        refill(now);
        List<Tracked> due = new ArrayList<>();
        for (Tracked t : leases.values()) {
            if (t.expiry <= now && t.revokeRetryAt <= now) {
                due.add(t);
            }
        }
        due.sort(Comparator.comparingLong((Tracked t) -> t.expiry).thenComparingLong(t -> t.id));
        int n = (int) Math.min(due.size(), Math.floor(revokeTokens));
        revokeTokens -= n;
        List<Long> out = new ArrayList<>(n);
        for (Tracked t : due.subList(0, n)) {
            t.revokeRetryAt = now + settings.revokeRetryNanos();
            out.add(t.id);
        }
        return out;
    }

    /**
     * The checkpoints to propose now (lease id to remaining TTL in whole seconds, rounded up and at
     * most the TTL), at most what the checkpoint rate allows. Empty when not primary.
     */
    public synchronized Map<Long, Long> checkpoints() {
        if (!primary) {
            return Map.of();
        }
        long now = look();
        refill(now);
        List<Tracked> due = new ArrayList<>();
        for (Tracked t : leases.values()) {
            if (seconds(t.ttlSeconds) <= settings.checkpointIntervalNanos() || t.expiry <= now) {
                continue;
            }
            long remaining = remainingSeconds(t, now);
            // A periodic checkpoint only ever lowers the stored value; a renewal raises it again.
            boolean periodic = now - t.lastCheckpoint >= settings.checkpointIntervalNanos()
                    && remaining < t.persistedRemainingSeconds;
            boolean reset = t.renewedSinceCheckpoint && t.persistedRemainingSeconds < t.ttlSeconds
                    && remaining != t.persistedRemainingSeconds;
            if (periodic || reset) {
                due.add(t);
            }
        }
        due.sort(Comparator.comparingLong((Tracked t) -> t.lastCheckpoint).thenComparingLong(t -> t.id));
        int n = (int) Math.min(due.size(), Math.floor(checkpointTokens));
        checkpointTokens -= n;
        Map<Long, Long> out = new LinkedHashMap<>();
        for (Tracked t : due.subList(0, n)) {
            t.lastCheckpoint = now;
            t.renewedSinceCheckpoint = false;
            out.put(t.id, remainingSeconds(t, now));
        }
        return out;
    }

    private static long remainingSeconds(Tracked t, long now) {
        long left = t.expiry - now;
        long rounded = left / SECOND + (left % SECOND > 0 ? 1 : 0);
        return Math.max(1, Math.min(rounded, t.ttlSeconds));
    }

    /** {@code seconds} in nanoseconds, saturating (etcd allows TTLs up to 9e9 s). */
    private static long seconds(long seconds) {
        return seconds > Long.MAX_VALUE / SECOND ? Long.MAX_VALUE : seconds * SECOND;
    }

    /** {@code instant + nanos} for non-negative {@code nanos}, saturating at the far future. */
    private static long after(long instant, long nanos) {
        long sum = instant + nanos;
        return sum < instant ? Long.MAX_VALUE : sum;
    }

    /** Reads the clock; on a primary, a jump above the pause threshold extends every lease. */
    private long look() {
        if (!primary) {
            throw new NotPrimaryException();
        }
        long now = clock.getAsLong();
        if (now - lastLook > settings.pauseThresholdNanos()) {
            pausesSeen++;
            long floor = after(now, settings.extendNanos());
            for (Tracked t : leases.values()) {
                t.expiry = Math.max(t.expiry, floor);
            }
        }
        lastLook = Math.max(lastLook, now);
        return now;
    }

    private void refill(long now) {
        double seconds = (double) (now - lastRefill) / SECOND;
        lastRefill = now;
        revokeTokens = Math.min(Math.max(1, settings.revokesPerSecond() / 2.0),
                revokeTokens + seconds * settings.revokesPerSecond());
        checkpointTokens = Math.min(Math.max(1, settings.checkpointsPerSecond() / 2.0),
                checkpointTokens + seconds * settings.checkpointsPerSecond());
    }
}

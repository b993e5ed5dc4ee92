package io.raftkv.server.lease;

import io.raftkv.mvcc.Lease;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The lessor's rules, with a clock the test moves: no threads, no sleeps. */
class LessorTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long EXTEND = 300 * MS;
    private static final long STEP = 100 * MS;

    private long now = 1_000_000 * MS;
    private Lessor lessor = new Lessor(() -> now, settings(1000, 1000));

    private static Lessor.Settings settings(int revokesPerSecond, int checkpointsPerSecond) {
        return new Lessor.Settings(EXTEND, 500 * MS, TimeUnit.SECONDS.toNanos(5), revokesPerSecond,
                checkpointsPerSecond, TimeUnit.SECONDS.toNanos(3));
    }

    /** Moves the clock in loop-sized steps, collecting what the lessor reports expired, in order. */
    private List<Long> run(long nanos) {
        List<Long> revoked = new ArrayList<>();
        for (long t = 0; t < nanos; t += STEP) {
            now += STEP;
            revoked.addAll(lessor.expired());
        }
        return revoked;
    }

    private long revokedAt(long id, long limitNanos) {
        long start = now;
        for (long t = 0; t < limitNanos; t += STEP) {
            now += STEP;
            if (lessor.expired().contains(id)) {
                return now - start;
            }
        }
        return -1;
    }

    @Test
    void leasesExpireInExpiryOrderAndNeverBeforeTheirTtl() {
        lessor.promote(1, List.of());
        lessor.granted(3, 3);
        lessor.granted(1, 1);
        lessor.granted(2, 2);
        assertThat(run(900 * MS)).isEmpty();
        assertThat(run(100 * MS)).containsExactly(1L);
        assertThat(run(900 * MS)).isEmpty();
        assertThat(run(1100 * MS)).containsExactly(2L, 3L);
    }

    @Test
    void expiredLeasesComeOutInExpiryOrderWithinOneLook() {
        lessor.promote(1, List.of());
        lessor.granted(7, 2);
        now += 200 * MS;
        lessor.expired();
        lessor.granted(5, 2);
        now += 200 * MS;
        lessor.expired();
        lessor.granted(9, 2);
        for (int i = 0; i < 15; i++) {
            now += STEP;
            assertThat(lessor.expired()).isEmpty();
        }
        now += 500 * MS; // a late look, not yet a pause: all three are due at once
        assertThat(lessor.expired()).containsExactly(7L, 5L, 9L);
    }

    @Test
    void keepAliveRestartsTheFullTtl() {
        lessor.promote(1, List.of());
        lessor.granted(1, 2);
        assertThat(run(1500 * MS)).isEmpty();
        assertThat(lessor.renew(1)).hasValue(2);
        assertThat(run(1900 * MS)).isEmpty();
        assertThat(lessor.remainingNanos(1).getAsLong()).isEqualTo(100 * MS);
        assertThat(run(100 * MS)).containsExactly(1L);
    }

    @Test
    void renewingAnUnknownOrExpiredLeaseFindsNothing() {
        lessor.promote(1, List.of());
        assertThat(lessor.renew(42)).isEmpty();
        lessor.granted(1, 1);
        run(1000 * MS);
        assertThat(lessor.renew(1)).isEmpty();
    }

    @Test
    void promotionExtendsCheckpointedRemainingTtlByTheElectionTimeout() {
        lessor.promote(4, List.of(new Lease(1, 60, 10), new Lease(2, 5, 5)));
        assertThat(lessor.remainingNanos(1)).hasValue(10_000 * MS + EXTEND);
        assertThat(lessor.remainingNanos(2)).hasValue(5_000 * MS + EXTEND);
        assertThat(revokedAt(2, 10_000 * MS)).isEqualTo(5_000 * MS + EXTEND);
        assertThat(revokedAt(1, 10_000 * MS)).isEqualTo(5_000 * MS);
    }

    @Test
    void aNewLeaderDoesNotRevokeLeasesWhoseCheckpointSaysTheyLive() {
        // The old leader's clock is gone; the new one resumes from the stored numbers.
        lessor.promote(2, List.of(new Lease(1, 10, 1), new Lease(2, 10, 10)));
        assertThat(run(1200 * MS)).isEmpty();
        assertThat(run(200 * MS)).containsExactly(1L);
    }

    @Test
    void aPauseGivesEveryLeaseAnElectionTimeoutBeforeItMayExpire() {
        lessor.promote(1, List.of());
        lessor.granted(1, 1);
        lessor.granted(2, 10);
        now += 2000 * MS; // SIGSTOP for 2 s: the lessor did not look meanwhile
        assertThat(lessor.expired()).isEmpty();
        assertThat(lessor.pausesSeen()).isEqualTo(1);
        assertThat(lessor.remainingNanos(1)).hasValue(EXTEND);
        assertThat(lessor.renew(1)).hasValue(1);
        assertThat(lessor.remainingNanos(2)).hasValue(8000 * MS);
    }

    @Test
    void aKeepAliveQueuedDuringAPauseIsServedBeforeAnyRevoke() {
        lessor.promote(1, List.of());
        lessor.granted(1, 1);
        now += 2000 * MS;
        assertThat(lessor.renew(1)).hasValue(1);
        assertThat(run(900 * MS)).isEmpty();
    }

    @Test
    void aDemotedLessorRevokesNothingAndRefusesRenewals() {
        lessor.promote(1, List.of());
        lessor.granted(1, 1);
        lessor.demote();
        assertThat(run(5000 * MS)).isEmpty();
        assertThat(lessor.checkpoints()).isEmpty();
        assertThat(lessor.poll()).isEqualTo(new Lessor.Work(0, List.of(), Map.of()));
        assertThatThrownBy(() -> lessor.renew(1)).isInstanceOf(Lessor.NotPrimaryException.class);
        assertThatThrownBy(() -> lessor.remainingNanos(1)).isInstanceOf(Lessor.NotPrimaryException.class);
        lessor.granted(2, 1);
        lessor.promote(3, List.of());
        assertThat(run(5000 * MS)).isEmpty();
    }

    @Test
    void revokesAreRateLimitedAndEarliestExpiryGoesFirst() {
        lessor = new Lessor(() -> now, settings(10, 1000));
        lessor.promote(1, List.of());
        for (long id = 1; id <= 30; id++) {
            lessor.granted(id, 1);
        }
        assertThat(run(900 * MS)).isEmpty();
        now += STEP;
        // tokens accrued over the lease's life, capped at half a second's worth
        assertThat(lessor.expired()).containsExactly(1L, 2L, 3L, 4L, 5L);
        List<Long> perStep = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            now += STEP;
            perStep.add((long) lessor.expired().size());
        }
        assertThat(perStep).containsOnly(1L);
    }

    @Test
    void anExpiredLeaseStillPresentIsReportedAgainAfterTheRetryInterval() {
        lessor.promote(1, List.of());
        lessor.granted(1, 1);
        assertThat(run(1000 * MS)).containsExactly(1L);
        assertThat(run(2900 * MS)).isEmpty();
        assertThat(run(200 * MS)).containsExactly(1L);
        lessor.revoked(1);
        assertThat(run(5000 * MS)).isEmpty();
    }

    @Test
    void longLeasesAreCheckpointedEveryIntervalRoundedUp() {
        lessor.promote(1, List.of());
        lessor.granted(1, 60);
        lessor.granted(2, 5); // not longer than the interval: never checkpointed
        List<Map<Long, Long>> seen = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            now += STEP;
            Map<Long, Long> cp = lessor.checkpoints();
            if (!cp.isEmpty()) {
                seen.add(cp);
                cp.forEach(lessor::checkpointed);
            }
        }
        assertThat(seen).containsExactly(Map.of(1L, 55L), Map.of(1L, 50L));
    }

    @Test
    void aRenewalAfterACheckpointResetsTheCheckpointPromptly() {
        lessor.promote(1, List.of());
        lessor.granted(1, 60);
        now += 5000 * MS;
        lessor.checkpoints().forEach(lessor::checkpointed);
        now += 1000 * MS;
        lessor.renew(1);
        now += STEP;
        assertThat(lessor.checkpoints()).isEqualTo(Map.of(1L, 60L));
        now += STEP;
        assertThat(lessor.checkpoints()).isEmpty();
    }

    @Test
    void checkpointsAreRateLimited() {
        lessor = new Lessor(() -> now, settings(1000, 4));
        lessor.promote(1, List.of());
        for (long id = 1; id <= 10; id++) {
            lessor.granted(id, 60);
        }
        int total = 0;
        for (int i = 0; i < 80; i++) {
            now += STEP;
            int n = lessor.checkpoints().size();
            assertThat(n).isLessThanOrEqualTo(2);
            total += n;
        }
        assertThat(total).isEqualTo(10);
    }

    @Test
    void aGrantReplayedAfterPromotionKeepsTheClockItHas() {
        lessor.promote(1, List.of(new Lease(1, 10, 3)));
        lessor.granted(1, 10);
        assertThat(lessor.remainingNanos(1)).hasValue(3000 * MS + EXTEND);
    }

    @Test
    void theLargestTtlEtcdAllowsDoesNotOverflowTheClock() {
        now = Long.MAX_VALUE - TimeUnit.SECONDS.toNanos(100);
        lessor.promote(1, List.of(new Lease(9, 9_000_000_000L, 9_000_000_000L)));
        lessor.granted(1, 9_000_000_000L);
        assertThat(run(1000 * MS)).isEmpty();
        assertThat(lessor.renew(1)).hasValue(9_000_000_000L);
        assertThat(lessor.remainingNanos(1).getAsLong()).isPositive();
        assertThat(lessor.remainingNanos(9).getAsLong()).isPositive();
    }

    @Test
    void aNewLeaderCheckpointsAsSoonAsTheRemainingTtlDropsInsteadOfRestartingTheSchedule() {
        lessor.promote(5, List.of(new Lease(1, 60, 40)));
        List<Map<Long, Long>> seen = new ArrayList<>();
        List<Long> at = new ArrayList<>();
        long start = now;
        for (int i = 0; i < 70; i++) {
            now += STEP;
            Map<Long, Long> cp = lessor.checkpoints();
            if (!cp.isEmpty()) {
                seen.add(cp);
                at.add((now - start) / MS);
                cp.forEach(lessor::checkpointed);
            }
        }
        // 40 s + 300 ms extension: rounded up it stays above the stored 40 until 1.3 s have passed
        assertThat(seen).containsExactly(Map.of(1L, 39L), Map.of(1L, 34L));
        assertThat(at).containsExactly(1300L, 6300L);
    }
}

package io.raftkv.server.node;

import io.raftkv.log.SegmentedWal;
import io.raftkv.raft.Bootstrap;
import io.raftkv.raft.ConfChange;
import io.raftkv.raft.Config;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A member that restarts with many committed but unapplied entries (a store behind its log) and
 * becomes leader is told it caught up only once it has applied all of them: the lessor is promoted
 * then, from the store's committed lease state.
 */
class RaftDriverLeaderCaughtUpTest {
    @TempDir
    Path dir;

    /** Records what was applied, and the last applied index at each listener call. */
    private static final class Recorder extends NoopStateMachine implements RaftDriver.LeadershipListener {
        volatile long lastApplied;
        final List<String> told = new CopyOnWriteArrayList<>();

        @Override
        public Object apply(long index, byte[] data) {
            lastApplied = index;
            return index;
        }

        @Override
        public void applyConfChange(long index, ConfChange cc) {
            lastApplied = index;
        }

        @Override
        public void applyNoop(long index) {
            lastApplied = index;
        }

        @Override
        public long durableIndex() {
            return lastApplied;
        }

        @Override
        public void leadershipChanged(boolean leader, long term) {
            told.add((leader ? "leader " : "follower ") + term + " at applied " + lastApplied);
        }

        @Override
        public void leaderCaughtUp(long term) {
            told.add("caught up " + term + " at applied " + lastApplied);
        }
    }

    @Test
    void aNewLeaderIsToldItCaughtUpOnlyAfterApplyingEveryEntryCommittedBeforeItsTerm() throws Exception {
        int backlog = 20_000;
        try (SegmentedWal wal = SegmentedWal.open(dir.resolve("wal"))) {
            List<Entry> entries = new ArrayList<>(Bootstrap.entries(Set.of(1L)));
            long first = entries.get(entries.size() - 1).index() + 1;
            for (int i = 0; i < backlog; i++) {
                entries.add(new Entry(1, first + i, EntryType.NORMAL, new byte[] {1, 2, 3}));
            }
            long last = first + backlog - 1;
            wal.persist(new HardState(1, 1, last), entries, null);
            Config config = new Config(1, 10, 2, 1 << 20, 512, 4L << 10, true, true, new SplittableRandom(7));
            Recorder machine = new Recorder();
            RaftDriver driver = new RaftDriver(config, wal, 0, machine, messages -> { }, 5, 1_000_000);
            driver.onLeadership(machine);
            driver.start();
            try {
                driver.call(raft -> {
                    raft.campaign();
                    return null;
                }).get(10, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(30)).until(() -> machine.told.stream().anyMatch(t -> t.startsWith("caught up")));
                System.out.println("RaftDriverLeaderCaughtUpTest: " + machine.told);
                assertThat(machine.told.get(0)).startsWith("leader 2 at applied ");
                assertThat(machine.told).hasSize(2);
                assertThat(machine.told.get(1)).isEqualTo("caught up 2 at applied " + (last + 1));
            } finally {
                driver.close();
            }
        }
    }
}

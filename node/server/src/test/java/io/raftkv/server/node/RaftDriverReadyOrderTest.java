package io.raftkv.server.node;

import io.raftkv.log.SegmentedWal;
import io.raftkv.raft.Bootstrap;
import io.raftkv.raft.Config;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a follower does before and after the fsync of a Ready (docs/ARCHITECTURE.md, "The Ready
 * contract"): committed entries its log already holds durably are applied while the fsync runs,
 * not after it, and a forwarded proposal leaves before it, while the acknowledgement of the
 * appended entries leaves only after it. Each callback records the WAL's durable last index at
 * that moment (the driver thread is the WAL's only writer; the index moves only when the driver
 * has waited for the fsync), which tells whether this Ready's entries were durable yet.
 */
class RaftDriverReadyOrderTest {
    private static final long LEADER = 1;
    private static final long SELF = 2;

    @TempDir
    Path dir;

    private SegmentedWal wal;
    private RaftDriver driver;
    /** Index applied -> the WAL's last index when it was applied. */
    private final ConcurrentHashMap<Long, Long> appliedAt = new ConcurrentHashMap<>();
    /** Each message sent, with the WAL's last index when it was handed to the transport. */
    private final List<String> sent = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startFollower() throws Exception {
        wal = SegmentedWal.open(dir.resolve("wal"));
        wal.persist(Bootstrap.hardState(), Bootstrap.entries(Set.of(1L, 2L, 3L)), null);
        // 1000 ticks of 5 ms: no election during the test
        Config config = new Config(SELF, 1000, 2, 1 << 20, 512, 1 << 20, true, true, new SplittableRandom(3));
        NoopStateMachine machine = new NoopStateMachine() {
            @Override
            public Object apply(long index, byte[] data) {
                appliedAt.put(index, wal.durableLastIndex());
                return index;
            }
        };
        driver = new RaftDriver(config, wal, 0, machine, messages -> {
            for (Message m : messages) {
                sent.add(describe(m) + " at last index " + wal.durableLastIndex());
            }
        }, 5, 1_000_000);
        driver.start();
        // the leader's first entries 2..4, committed only up to the bootstrap entry
        driver.receive(new Message.AppendEntries(LEADER, SELF, 1, 1, 1, entries(2, 4), 1));
        await().atMost(Duration.ofSeconds(10)).until(() -> sent.contains("ack 4 at last index 4"));
    }

    @AfterEach
    void stop() throws Exception {
        driver.close();
        wal.close();
    }

    @Test
    void committedEntriesTheLogAlreadyHoldsAreAppliedWhileTheNextFsyncRuns() {
        // entries 5..6 arrive with the news that 2..4 are committed: one Ready both persists 5..6
        // and applies 2..4
        driver.receive(new Message.AppendEntries(LEADER, SELF, 1, 4, 1, entries(5, 6), 4));
        await().atMost(Duration.ofSeconds(10)).until(() -> sent.contains("ack 6 at last index 6"));
        await().atMost(Duration.ofSeconds(10)).until(() -> appliedAt.containsKey(4L));
        assertThat(appliedAt).containsEntry(2L, 4L).containsEntry(3L, 4L).containsEntry(4L, 4L);
    }

    @Test
    void entriesWrittenInTheSameReadyAreAppliedOnlyAfterItsFsync() {
        // 5..6 arrive already committed: they must not be applied before they are durable here
        driver.receive(new Message.AppendEntries(LEADER, SELF, 1, 4, 1, entries(5, 6), 6));
        await().atMost(Duration.ofSeconds(10)).until(() -> appliedAt.containsKey(6L));
        assertThat(appliedAt).containsEntry(4L, 4L).containsEntry(5L, 6L).containsEntry(6L, 6L);
    }

    @Test
    void committedEntriesThatOverwriteTheLogsSuffixAreAppliedOnlyAfterItsFsync() {
        // a new leader (term 2) replaces the uncommitted 2..4 with its own 2..3, committed: the
        // log holds index 2 and 3 already, but not these entries
        List<Entry> replacing = List.of(
                new Entry(2, 2, EntryType.NORMAL, new byte[] {22}), new Entry(2, 3, EntryType.NORMAL, new byte[] {23}));
        driver.receive(new Message.AppendEntries(3, SELF, 2, 1, 1, replacing, 3));
        await().atMost(Duration.ofSeconds(10)).until(() -> appliedAt.containsKey(3L));
        assertThat(appliedAt).containsEntry(2L, 3L).containsEntry(3L, 3L);
    }

    @Test
    void aForwardedProposalLeavesBeforeTheFsyncAndTheAckAfterIt() throws Exception {
        driver.call(raft -> {
            raft.step(new Message.AppendEntries(LEADER, SELF, 1, 4, 1, entries(5, 6), 4));
            raft.propose(new byte[] {42});
            return null;
        }).get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> sent.contains("ack 6 at last index 6"));
        assertThat(sent).contains("propose at last index 4");
        assertThat(sent.indexOf("propose at last index 4")).isLessThan(sent.indexOf("ack 6 at last index 6"));
    }

    private static List<Entry> entries(long from, long to) {
        return java.util.stream.LongStream.rangeClosed(from, to)
                .mapToObj(i -> new Entry(1, i, EntryType.NORMAL, new byte[] {(byte) i}))
                .toList();
    }

    private static String describe(Message m) {
        if (m instanceof Message.AppendResponse r) {
            return (r.reject() ? "reject " : "ack ") + r.index();
        }
        if (m instanceof Message.Propose) {
            return "propose";
        }
        return m.getClass().getSimpleName();
    }
}

package io.raftkv.raft;

import io.raftkv.raft.ConfChange.Change;
import io.raftkv.raft.ConfChange.Type;
import io.raftkv.raft.Message.AppendEntries;
import io.raftkv.raft.Message.InstallSnapshot;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Log compaction and InstallSnapshot (Raft §7). */
class SnapshotBehaviourTest {

    /** Cuts node 3 off, writes ten entries and compacts the leader's log past them. */
    private static Snapshot lagAndCompact(TestCluster c) {
        RaftNode leader = c.elect(1);
        c.cut(1, 3);
        for (int i = 0; i < 10; i++) {
            c.propose(1, "p" + i);
        }
        Snapshot snap = c.compact(1, leader.appliedIndex());
        assertThat(c.storage(1).firstIndex()).isEqualTo(snap.metadata().index() + 1);
        assertThat(c.node(3).lastIndex()).isLessThan(snap.metadata().index());
        return snap;
    }

    private static void tickUntilCaughtUp(TestCluster c, long id) {
        for (int i = 0; i < 10 && c.node(id).lastIndex() < c.node(1).lastIndex(); i++) {
            c.tickAll();
        }
        assertThat(c.node(id).lastIndex()).isEqualTo(c.node(1).lastIndex());
    }

    /**
     * Raft §7: a follower that needs compacted entries gets the leader's snapshot, restores it (its
     * log now starts after the snapshot), and then replicates normally; the transport reports the
     * finished send with reportSnapshot(peer, true).
     */
    @Test
    void laggingFollowerInstallsSnapshotThenReplicatesNormally() {
        TestCluster c = TestCluster.ofVoters(3);
        Snapshot snap = lagAndCompact(c);
        long si = snap.metadata().index();
        c.heal();
        c.clearHistory();
        tickUntilCaughtUp(c, 3);

        assertThat(c.sent(InstallSnapshot.class)).singleElement().satisfies(s -> {
            assertThat(s.to()).isEqualTo(3);
            assertThat(s.snapshot().metadata().index()).isEqualTo(si);
        });
        assertThat(c.snapshotReports()).containsExactly("3:ok");
        assertThat(c.storage(3).firstIndex()).isEqualTo(si + 1);
        assertThat(c.appliedSnapshots(3)).singleElement()
                .satisfies(s -> assertThat(s.data()).isEqualTo(("state@" + si).getBytes()));
        assertThat(c.node(3).appliedIndex()).isEqualTo(si);

        c.propose(1, "after");
        RaftNode leader = c.node(1);
        assertThat(leader.progress().get(3L).state()).isEqualTo(Progress.State.REPLICATE);
        assertThat(leader.progress().get(3L).match()).isEqualTo(leader.lastIndex());
        assertThat(c.appliedData(3)).containsExactly("after");
        assertThat(c.sent(AppendEntries.class)).anyMatch(a -> a.to() == 3 && !a.entries().isEmpty()
                && a.entries().get(0).index() == si + 1);
    }

    /**
     * Raft §7: a snapshot whose send failed (reportSnapshot(peer, false)) is not assumed delivered:
     * the leader goes back to probing and sends the snapshot again.
     */
    @Test
    void failedSnapshotSendIsRetried() {
        TestCluster c = TestCluster.ofVoters(3);
        Snapshot snap = lagAndCompact(c);
        c.heal();
        c.clearHistory();
        RaftNode leader = c.node(1);
        for (int i = 0; i < 5 && c.pending(InstallSnapshot.class).isEmpty(); i++) {
            leader.tick();
            c.processReadies();
            while (c.pending(InstallSnapshot.class).isEmpty()
                    && c.deliverOne(m -> !(m instanceof InstallSnapshot)) != null) {
                // deliver everything up to the snapshot
            }
        }
        assertThat(c.pending(InstallSnapshot.class)).hasSize(1);
        assertThat(leader.progress().get(3L).state()).isEqualTo(Progress.State.SNAPSHOT);

        c.cutOneWay(1, 3);
        c.deliverOne(m -> m instanceof InstallSnapshot);
        assertThat(c.snapshotReports()).containsExactly("3:failed");
        assertThat(leader.progress().get(3L).state()).isEqualTo(Progress.State.PROBE);

        c.heal();
        tickUntilCaughtUp(c, 3);
        assertThat(c.snapshotReports()).containsExactly("3:failed", "3:ok");
        assertThat(c.storage(3).firstIndex()).isEqualTo(snap.metadata().index() + 1);
    }

    /**
     * Raft §7 with §6: a brand-new node (empty storage, no configuration) added after the leader
     * compacted learns both the state and the configuration from the snapshot, then the
     * configuration entries after it.
     */
    @Test
    void newNodeAddedAfterCompactionStartsFromSnapshot() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        for (int i = 0; i < 5; i++) {
            c.propose(1, "p" + i);
        }
        Snapshot snap = c.compact(1, leader.appliedIndex());
        c.add(4, new MemoryStorage());
        leader.proposeConfChange(ConfChange.of(new Change(Type.ADD_LEARNER, 4)));
        c.stabilize();
        assertThat(c.sent(InstallSnapshot.class)).anyMatch(s -> s.to() == 4);
        assertThat(c.storage(4).firstIndex()).isEqualTo(snap.metadata().index() + 1);
        assertThat(c.node(4).confState()).isEqualTo(leader.confState());
        assertThat(c.node(4).confState().learners()).containsExactly(4L);

        c.propose(1, "x");
        assertThat(c.appliedData(4)).containsExactly("x");
        assertThat(c.logOf(4)).isEqualTo(c.logOf(1));
    }

    /** Compaction on a follower is local: it keeps replicating, and its later snapshot reflects its log. */
    @Test
    void followerCompactionDoesNotDisturbReplication() {
        TestCluster c = TestCluster.ofVoters(3);
        c.elect(1);
        for (int i = 0; i < 5; i++) {
            c.propose(1, "p" + i);
        }
        Snapshot s = c.compact(2, c.node(2).appliedIndex());
        assertThat(s.metadata().confState()).isEqualTo(ConfState.ofVoters(Set.of(1L, 2L, 3L)));
        c.propose(1, "q");
        assertThat(c.appliedData(2)).endsWith("q");
        assertThat(c.storage(2).firstIndex()).isEqualTo(s.metadata().index() + 1);
        assertThat(c.logOf(2)).isEqualTo(c.logOf(1).subList((int) s.metadata().index(), c.logOf(1).size()));
    }

    /**
     * Raft §7: a snapshot whose last entry the follower already holds (same index and term) only
     * fast-forwards its commit index and keeps the entries after it; an older snapshot is ignored.
     */
    @Test
    void snapshotCoveredByFollowerLogOnlyAdvancesCommit() {
        TestCluster c = new TestCluster(TestCluster.Options.defaults());
        MemoryStorage st = ReplicationBehaviourTest.log(Set.of(1L, 2L, 3L), 2, 2, 1, 1, 2, 2, 2);
        c.add(2, st);
        RaftNode f = c.node(2);
        ConfState cs = ConfState.ofVoters(Set.of(1L, 2L, 3L));
        f.step(new InstallSnapshot(1, 2, 2, new Snapshot(new SnapshotMetadata(4, 2, cs), "s4".getBytes())));
        c.processReadies();
        assertThat(f.commitIndex()).isEqualTo(4);
        assertThat(f.lastIndex()).as("entry 5 kept").isEqualTo(5);
        assertThat(c.appliedSnapshots(2)).isEmpty();
        assertThat(c.applied(2)).extracting(Entry::index).containsExactly(1L, 2L, 3L, 4L);

        f.step(new InstallSnapshot(1, 2, 2, new Snapshot(new SnapshotMetadata(3, 2, cs), "s3".getBytes())));
        c.processReadies();
        assertThat(f.commitIndex()).isEqualTo(4);
        assertThat(c.storage(2).firstIndex()).isEqualTo(1);
        assertThat(c.pending(Message.AppendResponse.class)).last()
                .satisfies(r -> assertThat(r.index()).isEqualTo(4));
    }

    /** A node restarted after installing a snapshot starts from it: configuration, indices and commit. */
    @Test
    void nodeRestartedAfterSnapshotResumesFromIt() {
        TestCluster c = TestCluster.ofVoters(3);
        Snapshot snap = lagAndCompact(c);
        c.heal();
        tickUntilCaughtUp(c, 3);
        RaftNode r = c.restart(3);
        assertThat(r.confState()).isEqualTo(ConfState.ofVoters(Set.of(1L, 2L, 3L)));
        assertThat(r.commitIndex()).isGreaterThanOrEqualTo(snap.metadata().index());
        assertThat(r.lastIndex()).isEqualTo(c.node(1).lastIndex());
        c.propose(1, "after-restart");
        assertThat(c.appliedData(3)).containsExactly("after-restart");
    }
}

package io.raftkv.raft;

import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.HeartbeatResponse;
import io.raftkv.raft.Message.ReadIndexRequest;
import io.raftkv.raft.Message.ReadIndexResponse;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static io.raftkv.raft.TestCluster.ELECTION_TICKS;
import static org.assertj.core.api.Assertions.assertThat;

/** Linearizable reads without log writes: ReadIndex (thesis §6.4). */
class ReadIndexBehaviourTest {

    private static byte[] ctx(String s) {
        return s.getBytes();
    }

    private static boolean carries(byte[] context, String s) {
        return context != null && Arrays.equals(context, ctx(s));
    }

    /**
     * Thesis §6.4 step 3: the leader records its commit index and releases the read only after a
     * heartbeat round acknowledged by a majority proves it was still leader.
     */
    @Test
    void leaderReleasesReadStateOnlyAfterHeartbeatQuorum() {
        TestCluster c = TestCluster.ofVoters(5);
        RaftNode leader = c.elect(1);
        long commit = leader.commitIndex();
        leader.readIndex(ctx("r1"));
        c.processReadies();
        assertThat(c.readStates(1)).isEmpty();
        assertThat(c.pending(Heartbeat.class)).hasSize(4).allMatch(h -> carries(h.context(), "r1"));

        c.deliverOne(m -> m instanceof Heartbeat && m.to() == 2);
        c.deliverOne(m -> m instanceof HeartbeatResponse && m.from() == 2);
        assertThat(c.readStates(1)).as("leader + one follower is not a majority of five").isEmpty();

        c.deliverOne(m -> m instanceof Heartbeat && m.to() == 3);
        c.deliverOne(m -> m instanceof HeartbeatResponse && m.from() == 3);
        assertThat(c.readStates(1)).singleElement().satisfies(rs -> {
            assertThat(rs.index()).isEqualTo(commit);
            assertThat(rs.context()).isEqualTo(ctx("r1"));
        });
        assertThat(leader.pendingReadCount()).isZero();

        c.stabilize();
        assertThat(c.readStates(1)).as("late acknowledgements release nothing twice").hasSize(1);
    }

    /**
     * Thesis §6.4 step 1: until an entry of its own term commits, a new leader does not know the
     * cluster's commit index, so a read waits for its no-op to commit.
     */
    @Test
    void readBeforeLeadersFirstCommitWaitsForIt() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.node(1);
        leader.campaign();
        c.processReadies();
        while (leader.role() != Role.LEADER) {
            assertThat(c.deliverOne()).isNotNull();
        }
        long noop = leader.lastIndex();
        assertThat(leader.commitIndex()).isLessThan(noop);

        leader.readIndex(ctx("early"));
        c.processReadies();
        assertThat(leader.pendingReadCount()).isEqualTo(1);
        assertThat(c.pending(Heartbeat.class)).as("no read round before the first commit").isEmpty();
        assertThat(c.readStates(1)).isEmpty();

        c.stabilize();
        assertThat(leader.commitIndex()).isEqualTo(noop);
        assertThat(c.readStates(1)).singleElement().satisfies(rs -> {
            assertThat(rs.index()).isEqualTo(noop);
            assertThat(rs.context()).isEqualTo(ctx("early"));
        });
        assertThat(c.sent(Heartbeat.class)).as("the read still needed its quorum round")
                .anyMatch(h -> carries(h.context(), "early"));
    }

    /** Thesis §6.4: a follower forwards ReadIndex to the leader and serves the read at the returned index. */
    @Test
    void followerReadIndexIsForwardedToLeaderAndAnswered() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        c.propose(1, "v");
        long commit = leader.commitIndex();
        c.clearHistory();

        c.node(2).readIndex(ctx("f1"));
        c.stabilize();
        assertThat(c.sent(ReadIndexRequest.class)).singleElement()
                .satisfies(r -> assertThat(r.from() == 2 && r.to() == 1 && carries(r.context(), "f1")).isTrue());
        assertThat(c.sent(ReadIndexResponse.class)).singleElement()
                .satisfies(r -> assertThat(r.to() == 2 && r.index() == commit).isTrue());
        assertThat(c.readStates(2)).singleElement().satisfies(rs -> {
            assertThat(rs.index()).isEqualTo(commit);
            assertThat(rs.context()).isEqualTo(ctx("f1"));
        });
        assertThat(c.readStates(1)).isEmpty();
        assertThat(c.node(2).appliedIndex()).as("the follower can serve it now").isGreaterThanOrEqualTo(commit);
    }

    /**
     * Thesis §6.4: a leader cut off from the majority never gets its heartbeat quorum, so its
     * read is never released (it would be stale: the majority elects a leader and writes).
     */
    @Test
    void partitionedStaleLeaderNeverReleasesRead() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode old = c.elect(1);
        c.isolate(1);
        old.readIndex(ctx("stale"));
        c.processReadies();
        for (int i = 0; i < 5 * ELECTION_TICKS; i++) {
            c.tickAll();
            if (c.leader() != null && c.leader().id() != 1) {
                c.propose(c.leader().id(), "w" + i);
            }
        }
        assertThat(c.leader()).isNotNull();
        assertThat(c.leader().id()).isNotEqualTo(1);
        assertThat(c.readStates(1)).isEmpty();
        assertThat(old.role()).as("stepped down (and now fails pre-votes)").isNotEqualTo(Role.LEADER);
        assertThat(old.pendingReadCount()).as("dropped when stepping down").isZero();
    }

    /** Same without check-quorum: the stale node stays leader forever, and still never releases the read. */
    @Test
    void staleLeaderWithoutCheckQuorumStillNeverReleasesRead() {
        TestCluster c = TestCluster.ofVoters(3, TestCluster.Options.defaults().checkQuorum(false));
        RaftNode old = c.elect(1);
        c.isolate(1);
        old.readIndex(ctx("stale"));
        for (int i = 0; i < 5 * ELECTION_TICKS; i++) {
            c.tickAll();
        }
        assertThat(old.role()).isEqualTo(Role.LEADER);
        assertThat(c.readStates(1)).isEmpty();
        assertThat(old.pendingReadCount()).isEqualTo(1);
        RaftNode other = c.leader();
        assertThat(other.term()).isGreaterThan(old.term());
    }

    /**
     * The read check can fail: a broken leader that skips the heartbeat round (thesis §6.4 step 3)
     * answers a read from its partition with an index below a write the majority already
     * committed: a stale read.
     */
    @Test
    void brokenReadIndexWithoutQuorumRoundServesStaleRead() {
        TestCluster.Options broken = TestCluster.Options.defaults().checkQuorum(false)
                .factory((cfg, st, applied) -> new RaftNode(cfg, st, applied) {
                    @Override
                    boolean readIndexNeedsQuorumRound() {
                        return false;
                    }
                });
        TestCluster c = TestCluster.ofVoters(3, broken);
        RaftNode old = c.elect(1);
        c.isolate(1);
        c.elect(2);
        c.propose(2, "w");
        long committedElsewhere = c.node(2).commitIndex();

        old.readIndex(ctx("stale"));
        c.processReadies();
        assertThat(c.readStates(1)).singleElement()
                .satisfies(rs -> assertThat(rs.index()).as("stale").isLessThan(committedElsewhere));
    }
}

package io.raftkv.raft;

import io.raftkv.raft.Message.RequestVote;
import io.raftkv.raft.Message.TimeoutNow;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static io.raftkv.raft.TestCluster.ELECTION_TICKS;
import static org.assertj.core.api.Assertions.assertThat;

/** Learners (non-voting members, thesis §4.2.1): they receive the log and nothing else. */
class LearnerBehaviourTest {

    private static TestCluster withLearners(Long... learners) {
        ConfState cs = new ConfState(Set.of(1L, 2L, 3L), Set.of(learners), Set.of(), Set.of(), false);
        return TestCluster.of(cs, TestCluster.Options.defaults());
    }

    /** Thesis §4.2.1: a learner receives and applies the replicated log like any follower. */
    @Test
    void learnerReplicatesAndAppliesTheLog() {
        TestCluster c = withLearners(4L);
        c.elect(1);
        c.propose(1, "a");
        c.propose(1, "b");
        assertThat(c.appliedData(4)).containsExactly("a", "b");
        assertThat(c.logOf(4)).isEqualTo(c.logOf(1));
        assertThat(c.node(1).progress().get(4L).isLearner()).isTrue();
    }

    /** Thesis §4.2.1: a learner never starts an election, however long it hears nothing, nor on TimeoutNow. */
    @Test
    void learnerNeverCampaigns() {
        TestCluster c = withLearners(4L);
        c.elect(1);
        long term = c.node(4).term();
        c.clearHistory();
        c.isolate(4);
        c.tickAll(20 * ELECTION_TICKS);
        c.node(4).campaign();
        c.node(4).step(new TimeoutNow(1, 4, term));
        c.stabilize();
        assertThat(c.sent(RequestVote.class)).noneMatch(rv -> rv.from() == 4);
        assertThat(c.node(4).role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.node(4).term()).isEqualTo(term);
    }

    /**
     * Thesis §4.2.1: learners do not count toward the commit quorum. With voters {1,2,3} and
     * learners {4,5}, the leader plus both learners hold a new entry (three of five nodes) yet it
     * does not commit until a second voter has it.
     */
    @Test
    void learnersDoNotCountTowardCommitQuorum() {
        TestCluster c = withLearners(4L, 5L);
        RaftNode leader = c.elect(1);
        long commit = leader.commitIndex();
        c.cut(1, 2);
        c.cut(1, 3);
        c.propose(1, "x");
        long x = leader.lastIndex();
        assertThat(leader.progress().get(4L).match()).isEqualTo(x);
        assertThat(leader.progress().get(5L).match()).isEqualTo(x);
        assertThat(leader.commitIndex()).isEqualTo(commit);
        assertThat(c.appliedData(4)).isEmpty();

        c.heal();
        c.tickAll();
        assertThat(leader.commitIndex()).isEqualTo(x);
        assertThat(c.appliedData(5)).containsExactly("x");
    }

    /** Check-quorum counts voters only: a leader that hears only from learners steps down. */
    @Test
    void leaderHearingOnlyFromLearnersStepsDown() {
        TestCluster c = withLearners(4L, 5L);
        RaftNode leader = c.elect(1);
        c.cut(1, 2);
        c.cut(1, 3);
        c.tickAll(2 * ELECTION_TICKS);
        assertThat(leader.role()).isNotEqualTo(Role.LEADER);
    }
}

package io.raftkv.raft;

import io.raftkv.raft.Message.AppendEntries;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.TimeoutNow;
import io.raftkv.raft.Message.TransferLeader;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.raftkv.raft.TestCluster.ELECTION_TICKS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Leadership transfer (thesis §3.10). */
class LeadershipTransferBehaviourTest {

    /**
     * Thesis §3.10: the leader first brings the target's log up to date, then sends TimeoutNow;
     * the target campaigns at once (bypassing leases) and wins at term + 1.
     */
    @Test
    void laggingTargetIsCaughtUpThenTimeoutNowMakesItLeader() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode old = c.elect(1);
        long term = old.term();
        c.cut(1, 3);
        for (int i = 0; i < 5; i++) {
            c.propose(1, "p" + i);
        }
        c.heal();
        c.clearHistory();
        long last = old.lastIndex();

        old.transferLeadership(3);
        c.processReadies();
        assertThat(old.leadTransferee()).isEqualTo(3);
        assertThat(c.pending(TimeoutNow.class)).as("not before the target is caught up").isEmpty();
        assertThat(c.pending(AppendEntries.class)).anyMatch(a -> a.to() == 3);

        c.stabilize();
        List<Message> sent = c.sent();
        assertThat(c.sent(TimeoutNow.class)).singleElement().satisfies(t -> assertThat(t.to()).isEqualTo(3));
        int timeoutNowAt = sent.indexOf(c.sent(TimeoutNow.class).get(0));
        int caughtUpAt = -1;
        for (int i = 0; i < sent.size(); i++) {
            if (sent.get(i) instanceof AppendResponse r && r.from() == 3 && !r.reject() && r.index() == last) {
                caughtUpAt = i;
                break;
            }
        }
        assertThat(caughtUpAt).as("node 3 acknowledged the leader's last index").isNotNegative()
                .isLessThan(timeoutNowAt);

        RaftNode target = c.node(3);
        assertThat(target.role()).isEqualTo(Role.LEADER);
        assertThat(target.term()).isEqualTo(term + 1);
        assertThat(old.role()).isEqualTo(Role.FOLLOWER);
        assertThat(old.leader()).isEqualTo(3);
        c.propose(3, "after");
        assertThat(c.appliedData(1)).containsExactly("p0", "p1", "p2", "p3", "p4", "after");
    }

    /** A follower asked to transfer forwards the request to its leader. */
    @Test
    void transferRequestedOnFollowerIsForwardedToLeader() {
        TestCluster c = TestCluster.ofVoters(3);
        long term = c.elect(1).term();
        c.node(2).transferLeadership(3);
        c.stabilize();
        assertThat(c.sent(TransferLeader.class)).anyMatch(t -> t.from() == 2 && t.to() == 1 && t.transferee() == 3);
        assertThat(c.node(3).role()).isEqualTo(Role.LEADER);
        assertThat(c.node(3).term()).isEqualTo(term + 1);
    }

    /** Thesis §3.10: while a transfer is pending the leader refuses new proposals. */
    @Test
    void proposalsAreRefusedDuringTransfer() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        c.isolate(3);
        leader.transferLeadership(3);
        long last = leader.lastIndex();
        assertThatThrownBy(() -> leader.propose("x".getBytes())).isInstanceOf(ProposalDroppedException.class);
        assertThatThrownBy(() -> leader.proposeConfChange(
                ConfChange.of(new ConfChange.Change(ConfChange.Type.ADD_LEARNER, 4))))
                .isInstanceOf(ProposalDroppedException.class);
        assertThat(leader.lastIndex()).as("nothing appended").isEqualTo(last);

        // A proposal forwarded by a follower meanwhile is dropped silently.
        c.node(2).propose("via-2".getBytes());
        c.stabilize();
        assertThat(leader.lastIndex()).isEqualTo(last);
    }

    /**
     * Thesis §3.10: if the target does not take over within an election timeout the leader
     * aborts the transfer and accepts proposals again.
     */
    @Test
    void transferToUnreachableTargetIsAbortedAfterElectionTimeout() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        long term = leader.term();
        c.isolate(3);
        leader.transferLeadership(3);
        for (int i = 0; i < ELECTION_TICKS - 1; i++) {
            c.tickAll();
        }
        assertThat(leader.leadTransferee()).as("still trying before the timeout").isEqualTo(3);
        c.tickAll();
        assertThat(leader.leadTransferee()).isEqualTo(RaftNode.NONE);
        assertThat(leader.role()).isEqualTo(Role.LEADER);
        assertThat(leader.term()).isEqualTo(term);
        c.propose(1, "accepted");
        assertThat(c.appliedData(2)).containsExactly("accepted");
        assertThat(c.delivered()).as("the TimeoutNow sent to the caught-up target was lost")
                .noneMatch(m -> m instanceof TimeoutNow);
    }

    /** etcd: a learner cannot be a leader, so a transfer to it is ignored. */
    @Test
    void transferToLearnerIsIgnored() {
        ConfState cs = new ConfState(Set.of(1L, 2L, 3L), Set.of(4L), Set.of(), Set.of(), false);
        TestCluster c = TestCluster.of(cs, TestCluster.Options.defaults());
        RaftNode leader = c.elect(1);
        leader.transferLeadership(4);
        c.stabilize();
        assertThat(leader.leadTransferee()).isEqualTo(RaftNode.NONE);
        assertThat(c.sent(TimeoutNow.class)).isEmpty();
        c.propose(1, "still-leading");
        assertThat(leader.role()).isEqualTo(Role.LEADER);
        assertThat(c.appliedData(4)).containsExactly("still-leading");
    }
}

package io.raftkv.raft;

import io.raftkv.raft.ConfChange.Change;
import io.raftkv.raft.ConfChange.Type;
import io.raftkv.raft.Message.AppendEntries;
import io.raftkv.raft.Message.RequestVote;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static io.raftkv.raft.TestCluster.ELECTION_TICKS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Membership changes by joint consensus (Raft §6, thesis §4.3): every change goes through
 * C_old,new, configurations take effect when appended, and the leader leaves the joint
 * configuration by itself once it commits.
 */
class MembershipBehaviourTest {

    private static final Set<Long> THREE = Set.of(1L, 2L, 3L);
    private static final Set<Long> FIVE = Set.of(1L, 2L, 3L, 4L, 5L);

    private static ConfChange change(Type type, long id) {
        return ConfChange.of(new Change(type, id));
    }

    /**
     * A joining node is bootstrapped with the configuration the leader's log starts from (here the
     * initial {1,2,3} at index 0), so that replaying the log reproduces every configuration.
     */
    private static void join(TestCluster c, long id, Set<Long> initialVoters) {
        c.add(id, MemoryStorage.withConfState(ConfState.ofVoters(initialVoters)));
    }

    private static List<Entry> confEntries(TestCluster c, long id) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : c.logOf(id)) {
            if (e.type() == EntryType.CONF_CHANGE) {
                out.add(e);
            }
        }
        return out;
    }

    private static ConfState simple(Set<Long> voters, Set<Long> learners) {
        return new ConfState(voters, learners, Set.of(), Set.of(), false);
    }

    /** Thesis §4.2.1: add a node as a learner first, then promote it to voter once it has caught up. */
    @Test
    void addNodeAsLearnerThenPromoteToVoter() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        c.propose(1, "before");
        join(c, 4, THREE);

        leader.proposeConfChange(change(Type.ADD_LEARNER, 4));
        c.stabilize();
        for (long id : c.ids()) {
            assertThat(c.node(id).confState()).as("conf of %d", id).isEqualTo(simple(THREE, Set.of(4L)));
        }
        assertThat(c.appliedData(4)).containsExactly("before");

        leader.proposeConfChange(change(Type.ADD_VOTER, 4));
        c.stabilize();
        Set<Long> four = Set.of(1L, 2L, 3L, 4L);
        for (long id : c.ids()) {
            assertThat(c.node(id).confState()).as("conf of %d", id).isEqualTo(simple(four, Set.of()));
        }
        assertThat(leader.progress().get(4L).isLearner()).isFalse();

        // Now a voter: it counts toward quorum and may lead.
        c.isolate(2);
        c.isolate(3);
        c.propose(1, "needs-4");
        assertThat(c.appliedData(1)).doesNotContain("needs-4");
        c.heal();
        c.tickAll();
        assertThat(c.appliedData(4)).contains("needs-4");
        leader.transferLeadership(4);
        c.stabilize();
        assertThat(c.node(4).role()).isEqualTo(Role.LEADER);
    }

    /** Raft §6: removing a follower; afterwards the remaining two voters commit on their own. */
    @Test
    void removeFollower() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        leader.proposeConfChange(change(Type.REMOVE, 3));
        c.stabilize();
        assertThat(leader.confState()).isEqualTo(simple(Set.of(1L, 2L), Set.of()));
        assertThat(c.node(2).confState()).isEqualTo(leader.confState());
        assertThat(leader.progress()).doesNotContainKey(3L);

        c.isolate(3);
        c.propose(1, "two-of-two");
        assertThat(c.appliedData(2)).containsExactly("two-of-two");
    }

    /** Thesis §4.3: joint consensus replaces two voters in one change: {1,2,3} -> {1,4,5}. */
    @Test
    void replaceTwoVotersAtOnce() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        join(c, 4, THREE);
        join(c, 5, THREE);
        leader.proposeConfChange(ConfChange.of(new Change(Type.ADD_VOTER, 4), new Change(Type.ADD_VOTER, 5),
                new Change(Type.REMOVE, 2), new Change(Type.REMOVE, 3)));
        c.stabilize();
        ConfState target = simple(Set.of(1L, 4L, 5L), Set.of());
        for (long id : List.of(1L, 4L, 5L)) {
            assertThat(c.node(id).confState()).as("conf of %d", id).isEqualTo(target);
        }
        List<Entry> conf = confEntries(c, 1);
        assertThat(conf).hasSize(2);
        assertThat(ConfChange.decode(conf.get(0).data()).isLeaveJoint()).isFalse();
        assertThat(ConfChange.decode(conf.get(1).data()).isLeaveJoint()).isTrue();

        c.isolate(2);
        c.isolate(3);
        c.propose(1, "new-config");
        assertThat(c.appliedData(4)).containsExactly("new-config");
        assertThat(c.appliedData(5)).containsExactly("new-config");
    }

    /**
     * Raft §6: in C_old,new every decision needs a majority of C_old AND of C_new. Changing
     * {1,2,3} to {1,4,5}: with 2 and 3 unreachable the new majority {1,4,5} alone commits nothing.
     */
    @Test
    void jointConfigurationNeedsOldMajorityToo() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        join(c, 4, THREE);
        join(c, 5, THREE);
        long commit = leader.commitIndex();
        c.cut(1, 2);
        c.cut(1, 3);
        leader.proposeConfChange(ConfChange.of(new Change(Type.ADD_VOTER, 4), new Change(Type.ADD_VOTER, 5),
                new Change(Type.REMOVE, 2), new Change(Type.REMOVE, 3)));
        c.stabilize();
        c.propose(1, "x");
        assertThat(leader.confState().isJoint()).isTrue();
        assertThat(leader.progress().get(4L).match()).isEqualTo(leader.lastIndex());
        assertThat(leader.progress().get(5L).match()).isEqualTo(leader.lastIndex());
        assertThat(leader.commitIndex()).as("{1,4,5} alone is not enough").isEqualTo(commit);

        c.heal();
        c.cut(1, 3);
        c.tickAll();
        c.tickAll();
        assertThat(leader.confState()).isEqualTo(simple(Set.of(1L, 4L, 5L), Set.of()));
        assertThat(c.appliedData(4)).containsExactly("x");
    }

    /** Raft §6, the other half: the old majority {1,2,3} alone commits nothing in C_old,new either. */
    @Test
    void jointConfigurationNeedsNewMajorityToo() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        join(c, 4, THREE);
        join(c, 5, THREE);
        long commit = leader.commitIndex();
        c.cut(1, 4);
        c.cut(1, 5);
        leader.proposeConfChange(ConfChange.of(new Change(Type.ADD_VOTER, 4), new Change(Type.ADD_VOTER, 5),
                new Change(Type.REMOVE, 2), new Change(Type.REMOVE, 3)));
        c.stabilize();
        assertThat(leader.progress().get(2L).match()).isEqualTo(leader.lastIndex());
        assertThat(leader.progress().get(3L).match()).isEqualTo(leader.lastIndex());
        assertThat(leader.commitIndex()).as("{1,2,3} alone is not enough").isEqualTo(commit);

        c.heal();
        c.tickAll();
        c.tickAll();
        assertThat(leader.confState()).isEqualTo(simple(Set.of(1L, 4L, 5L), Set.of()));
    }

    /**
     * Thesis §4.3 (etcd auto-leave): the leader appends the leave-joint entry itself, and only
     * once the joint entry has committed.
     */
    @Test
    void leaderLeavesJointConfigurationOnlyAfterJointEntryCommits() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        join(c, 4, THREE);
        leader.proposeConfChange(change(Type.ADD_VOTER, 4));
        c.processReadies();
        long joint = leader.lastIndex();
        assertThat(leader.confState().isJoint()).isTrue();
        while (leader.commitIndex() < joint) {
            assertThat(leader.lastIndex()).as("no leave entry before the joint entry commits").isEqualTo(joint);
            assertThat(c.deliverOne()).isNotNull();
        }
        assertThat(leader.lastIndex()).isEqualTo(joint + 1);
        Entry leave = c.node(1).log.slice(joint + 1, joint + 2, Long.MAX_VALUE).get(0);
        assertThat(leave.type()).isEqualTo(EntryType.CONF_CHANGE);
        assertThat(ConfChange.decode(leave.data()).isLeaveJoint()).isTrue();
        assertThat(leave.term()).isEqualTo(leader.term());
        assertThat(leader.confState().isJoint()).as("leaving takes effect on append").isFalse();

        c.stabilize();
        for (long id : c.ids()) {
            assertThat(c.node(id).confState()).isEqualTo(simple(Set.of(1L, 2L, 3L, 4L), Set.of()));
            assertThat(c.node(id).confChangeInFlight()).isFalse();
        }
    }

    /** Thesis §4.1 (one change at a time): a second change while one is in flight is refused. */
    @Test
    void secondConfChangeWhileOneIsInFlightIsRefused() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        leader.proposeConfChange(change(Type.ADD_LEARNER, 4));
        long last = leader.lastIndex();
        assertThatThrownBy(() -> leader.proposeConfChange(change(Type.ADD_LEARNER, 5)))
                .as("joint entry not committed").isInstanceOf(ProposalDroppedException.class);

        // Commit the joint entry but not the leave entry: still in flight.
        c.processReadies();
        c.hold(m -> m instanceof AppendEntries a && a.entries().stream().anyMatch(e -> e.index() > last));
        c.stabilize();
        assertThat(leader.commitIndex()).isEqualTo(last);
        assertThat(leader.confChangeInFlight()).isTrue();
        assertThatThrownBy(() -> leader.proposeConfChange(change(Type.ADD_LEARNER, 5)))
                .as("leave entry not committed").isInstanceOf(ProposalDroppedException.class);
        assertThat(leader.lastIndex()).isEqualTo(last + 1);

        c.releaseHolds();
        c.stabilize();
        leader.proposeConfChange(change(Type.ADD_LEARNER, 5));
        c.stabilize();
        assertThat(leader.confState().learners()).containsExactlyInAnyOrder(4L, 5L);
    }

    /** Thesis §4.1: a configuration takes effect on append: a follower switches before commit. */
    @Test
    void followerAdoptsConfigurationWhenAppendedBeforeCommit() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        leader.proposeConfChange(change(Type.REMOVE, 3));
        c.processReadies();
        long idx = leader.lastIndex();
        c.deliverOne(m -> m instanceof AppendEntries a && a.to() == 2
                && a.entries().stream().anyMatch(e -> e.type() == EntryType.CONF_CHANGE));
        RaftNode f = c.node(2);
        assertThat(f.lastIndex()).isEqualTo(idx);
        assertThat(f.commitIndex()).isLessThan(idx);
        assertThat(f.confState().isJoint()).isTrue();
        assertThat(f.confState().voters()).containsExactlyInAnyOrder(1L, 2L);
        assertThat(f.confState().votersOutgoing()).containsExactlyInAnyOrder(1L, 2L, 3L);
        assertThat(c.node(3).confState()).isEqualTo(ConfState.ofVoters(THREE));
    }

    /**
     * Thesis §4.1: because a configuration is used as soon as it is appended, a follower whose
     * uncommitted configuration entry is overwritten by a new leader must fall back to the
     * previous configuration.
     */
    @Test
    void overwrittenUncommittedConfEntryRevertsFollowerConfiguration() {
        TestCluster c = TestCluster.ofVoters(5, TestCluster.Options.defaults().checkQuorum(false));
        RaftNode leader = c.elect(1);
        leader.proposeConfChange(change(Type.REMOVE, 5));
        c.processReadies();
        long idx = leader.lastIndex();
        c.deliverOne(m -> m instanceof AppendEntries a && a.to() == 2
                && a.entries().stream().anyMatch(e -> e.type() == EntryType.CONF_CHANGE));
        assertThat(c.node(2).confState().isJoint()).isTrue();

        c.isolate(1);
        c.isolate(2);
        c.dropPending();
        c.elect(3);
        assertThat(c.node(3).termAt(idx)).as("new leader's no-op takes the index").isEqualTo(c.node(3).term());

        c.heal();
        c.isolate(1);
        c.tickAll(2);
        RaftNode f = c.node(2);
        assertThat(f.termAt(idx)).isEqualTo(c.node(3).term());
        assertThat(f.confState()).isEqualTo(ConfState.ofVoters(FIVE));
        assertThat(f.confChangeInFlight()).isFalse();
        assertThat(f.confStateAt(idx)).isEqualTo(ConfState.ofVoters(FIVE));
    }

    /**
     * Thesis §4.2.2: a leader that is not part of C_new keeps leading (without counting itself)
     * until C_new is committed, then steps down; it never campaigns again.
     */
    @Test
    void removedLeaderStepsDownOnceNewConfigurationCommits() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        long term = leader.term();
        leader.proposeConfChange(change(Type.REMOVE, 1));
        c.processReadies();
        long joint = leader.lastIndex();
        long leave = joint + 1;
        while (c.deliverOne() != null) {
            if (leader.commitIndex() < leave) {
                assertThat(leader.role()).as("commit %d < leave %d", leader.commitIndex(), leave).isEqualTo(Role.LEADER);
            } else {
                assertThat(leader.role()).isEqualTo(Role.FOLLOWER);
            }
        }
        assertThat(leader.role()).isEqualTo(Role.FOLLOWER);
        assertThat(leader.confState()).isEqualTo(simple(Set.of(2L, 3L), Set.of()));
        assertThat(ConfChange.decode(c.logOf(1).get((int) leave - 1).data()).isLeaveJoint()).isTrue();
        assertThat(c.node(2).commitIndex()).as("the followers learned C_new committed").isGreaterThanOrEqualTo(leave);

        c.clearHistory();
        c.tickAll(4 * ELECTION_TICKS);
        RaftNode next = c.leader();
        assertThat(next).isNotNull();
        assertThat(next.id()).isNotEqualTo(1);
        assertThat(next.term()).isGreaterThan(term);
        assertThat(c.sent(RequestVote.class)).noneMatch(rv -> rv.from() == 1 || rv.to() == 1);
        c.propose(next.id(), "without-1");
        assertThat(c.appliedData(next.id())).containsExactly("without-1");
    }
}

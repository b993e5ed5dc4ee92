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

    /** A joining node starts empty and learns everything, configuration included, from the leader's log. */
    private static void join(TestCluster c, long id) {
        c.add(id, new MemoryStorage());
    }

    private static List<Entry> confEntries(TestCluster c, long id) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : c.logOf(id)) {
            if (e.type() == EntryType.CONF_CHANGE && e.index() > 1) { // index 1: the bootstrap entry
                out.add(e);
            }
        }
        return out;
    }

    /** A non-joint configuration; compared with {@link #sameConf} (autoLeave only matters while joint). */
    private static ConfState simple(Set<Long> voters, Set<Long> learners) {
        return new ConfState(voters, learners, Set.of(), Set.of(), false);
    }

    private static void assertConf(ConfState actual, ConfState expected, String what) {
        assertThat(actual.voters()).as("voters of %s", what).isEqualTo(expected.voters());
        assertThat(actual.learners()).as("learners of %s", what).isEqualTo(expected.learners());
        assertThat(actual.votersOutgoing()).as("outgoing voters of %s", what).isEqualTo(expected.votersOutgoing());
        assertThat(actual.learnersNext()).as("learnersNext of %s", what).isEqualTo(expected.learnersNext());
    }

    /** Thesis §4.2.1: add a node as a learner first, then promote it to voter once it has caught up. */
    @Test
    void addNodeAsLearnerThenPromoteToVoter() {
        TestCluster c = TestCluster.bootstrapped(3);
        RaftNode leader = c.elect(1);
        c.propose(1, "before");
        join(c, 4);

        leader.proposeConfChange(change(Type.ADD_LEARNER, 4));
        c.stabilize();
        for (long id : c.ids()) {
            assertConf(c.node(id).confState(), simple(THREE, Set.of(4L)), "node " + id);
        }
        assertThat(c.appliedData(4)).containsExactly("before");

        leader.proposeConfChange(change(Type.ADD_VOTER, 4));
        c.stabilize();
        Set<Long> four = Set.of(1L, 2L, 3L, 4L);
        for (long id : c.ids()) {
            assertConf(c.node(id).confState(), simple(four, Set.of()), "node " + id);
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
        TestCluster c = TestCluster.bootstrapped(3);
        RaftNode leader = c.elect(1);
        leader.proposeConfChange(change(Type.REMOVE, 3));
        c.stabilize();
        assertConf(leader.confState(), simple(Set.of(1L, 2L), Set.of()), "leader");
        assertConf(c.node(2).confState(), leader.confState(), "node 2");
        assertThat(leader.progress()).doesNotContainKey(3L);

        c.isolate(3);
        c.propose(1, "two-of-two");
        assertThat(c.appliedData(2)).containsExactly("two-of-two");
    }

    /** Thesis §4.3: joint consensus replaces two voters in one change: {1,2,3} -> {1,4,5}. */
    @Test
    void replaceTwoVotersAtOnce() {
        TestCluster c = TestCluster.bootstrapped(3);
        RaftNode leader = c.elect(1);
        join(c, 4);
        join(c, 5);
        leader.proposeConfChange(ConfChange.of(new Change(Type.ADD_VOTER, 4), new Change(Type.ADD_VOTER, 5),
                new Change(Type.REMOVE, 2), new Change(Type.REMOVE, 3)));
        c.stabilize();
        ConfState target = simple(Set.of(1L, 4L, 5L), Set.of());
        for (long id : List.of(1L, 4L, 5L)) {
            assertConf(c.node(id).confState(), target, "node " + id);
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
        TestCluster c = TestCluster.bootstrapped(3);
        RaftNode leader = c.elect(1);
        join(c, 4);
        join(c, 5);
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
        assertConf(leader.confState(), simple(Set.of(1L, 4L, 5L), Set.of()), "leader");
        assertThat(c.appliedData(4)).containsExactly("x");
    }

    /** Raft §6, the other half: the old majority {1,2,3} alone commits nothing in C_old,new either. */
    @Test
    void jointConfigurationNeedsNewMajorityToo() {
        TestCluster c = TestCluster.bootstrapped(3);
        RaftNode leader = c.elect(1);
        join(c, 4);
        join(c, 5);
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
        assertConf(leader.confState(), simple(Set.of(1L, 4L, 5L), Set.of()), "leader");
    }

    /**
     * Thesis §4.3 (etcd auto-leave): the leader appends the leave-joint entry itself, and only
     * once the joint entry has committed.
     */
    @Test
    void leaderLeavesJointConfigurationOnlyAfterJointEntryCommits() {
        TestCluster c = TestCluster.bootstrapped(3);
        RaftNode leader = c.elect(1);
        join(c, 4);
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
            assertConf(c.node(id).confState(), simple(Set.of(1L, 2L, 3L, 4L), Set.of()), "node " + id);
            assertThat(c.node(id).confChangeInFlight()).isFalse();
        }
    }

    /** Thesis §4.1 (one change at a time): a second change while one is in flight is refused. */
    @Test
    void secondConfChangeWhileOneIsInFlightIsRefused() {
        TestCluster c = TestCluster.bootstrapped(3);
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
        TestCluster c = TestCluster.bootstrapped(3);
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
        assertConf(c.node(3).confState(), simple(THREE, Set.of()), "node 3");
    }

    /**
     * Thesis §4.1: because a configuration is used as soon as it is appended, a follower whose
     * uncommitted configuration entry is overwritten by a new leader must fall back to the
     * previous configuration.
     */
    @Test
    void overwrittenUncommittedConfEntryRevertsFollowerConfiguration() {
        TestCluster c = TestCluster.bootstrapped(5, TestCluster.Options.defaults().checkQuorum(false));
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
        assertConf(f.confState(), simple(FIVE, Set.of()), "node 2");
        assertThat(f.confChangeInFlight()).isFalse();
        assertConf(f.confStateAt(idx), simple(FIVE, Set.of()), "node 2 at the overwritten index");
    }

    /**
     * Thesis §4.2.2: a leader that is not part of C_new keeps leading (without counting itself)
     * until C_new is committed, then steps down; it never campaigns again.
     */
    @Test
    void removedLeaderStepsDownOnceNewConfigurationCommits() {
        TestCluster c = TestCluster.bootstrapped(3);
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
        assertConf(leader.confState(), simple(Set.of(2L, 3L), Set.of()), "leader");
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

    /**
     * Thesis §4.3 / etcd LearnersNext: demoting a voter keeps it an outgoing voter while joint and
     * makes it a learner when the joint configuration is left; it then never campaigns.
     */
    @Test
    void demotedVoterBecomesLearnerOnLeavingJoint() {
        TestCluster c = TestCluster.bootstrapped(3);
        RaftNode leader = c.elect(1);
        leader.proposeConfChange(change(Type.ADD_LEARNER, 3));
        c.processReadies();
        ConfState joint = leader.confState();
        assertThat(joint.voters()).containsExactlyInAnyOrder(1L, 2L);
        assertThat(joint.votersOutgoing()).containsExactlyInAnyOrder(1L, 2L, 3L);
        assertThat(joint.learnersNext()).containsExactly(3L);
        assertThat(joint.learners()).isEmpty();

        c.stabilize();
        for (long id : c.ids()) {
            assertConf(c.node(id).confState(), simple(Set.of(1L, 2L), Set.of(3L)), "node " + id);
        }
        assertThat(leader.progress().get(3L).isLearner()).isTrue();
        c.clearHistory();
        c.isolate(1);
        c.tickAll(5 * ELECTION_TICKS);
        assertThat(c.sent(RequestVote.class)).noneMatch(rv -> rv.from() == 3);
        assertThat(c.sent(RequestVote.class)).anyMatch(rv -> rv.from() == 2);
    }

    /** Thesis §4.2.2 with demotion: a leader demoted to learner steps down once C_new commits and keeps the log. */
    @Test
    void leaderDemotedToLearnerStepsDownAndKeepsReplicating() {
        TestCluster c = TestCluster.bootstrapped(3);
        RaftNode leader = c.elect(1);
        leader.proposeConfChange(change(Type.ADD_LEARNER, 1));
        c.stabilize();
        assertThat(leader.role()).isEqualTo(Role.FOLLOWER);
        assertConf(leader.confState(), simple(Set.of(2L, 3L), Set.of(1L)), "leader");
        c.tickAll(4 * ELECTION_TICKS);
        RaftNode next = c.leader();
        assertThat(next.id()).isIn(2L, 3L);
        c.propose(next.id(), "to-learner-1");
        assertThat(c.appliedData(1)).containsExactly("to-learner-1");
    }

    /** A node restarted from its storage replays the configuration entries of its log, committed or not. */
    @Test
    void restartedFollowerRecoversUncommittedJointConfigurationFromItsLog() {
        TestCluster c = TestCluster.bootstrapped(3);
        RaftNode leader = c.elect(1);
        leader.proposeConfChange(change(Type.REMOVE, 3));
        c.processReadies();
        c.deliverOne(m -> m instanceof AppendEntries a && a.to() == 2
                && a.entries().stream().anyMatch(e -> e.type() == EntryType.CONF_CHANGE));
        ConfState before = c.node(2).confState();
        assertThat(before.isJoint()).isTrue();
        long term = c.node(2).term();

        RaftNode restarted = c.restart(2);
        assertConf(restarted.confState(), before, "restarted node 2");
        assertThat(restarted.term()).isEqualTo(term);
        assertThat(restarted.lastIndex()).isEqualTo(leader.lastIndex());
        c.stabilize();
        assertConf(restarted.confState(), simple(Set.of(1L, 2L), Set.of()), "restarted node 2");
    }

    /**
     * Thesis §4.2.3: a removed server that never learned it was removed times out and campaigns,
     * but with pre-vote and the check-quorum lease it cannot raise the cluster's term or depose
     * the leader.
     */
    @Test
    void removedServerDoesNotDisruptTheCluster() {
        TestCluster c = TestCluster.bootstrapped(3);
        RaftNode leader = c.elect(1);
        long term = leader.term();
        c.isolate(3);
        leader.proposeConfChange(change(Type.REMOVE, 3));
        c.stabilize();
        assertConf(leader.confState(), simple(Set.of(1L, 2L), Set.of()), "leader");
        assertConf(c.node(3).confState(), simple(THREE, Set.of()), "never heard of it");

        c.heal();
        c.clearHistory();
        c.tickAll(10 * ELECTION_TICKS);
        assertThat(c.sent(RequestVote.class)).as("node 3 keeps trying").anyMatch(rv -> rv.from() == 3);
        assertThat(leader.role()).isEqualTo(Role.LEADER);
        assertThat(leader.term()).isEqualTo(term);
        assertThat(c.node(2).term()).isEqualTo(term);
        assertThat(c.node(2).leader()).isEqualTo(1);
    }

    /**
     * etcd bootstrap: the initial configuration is an ordinary entry at index 1, so a node that
     * joins with an empty storage learns it, and every later change, by replication alone.
     */
    @Test
    void freshNodeWithEmptyStorageLearnsConfigurationFromTheLog() {
        TestCluster c = TestCluster.bootstrapped(3);
        RaftNode leader = c.elect(1);
        c.propose(1, "x");
        join(c, 4);
        assertThat(c.node(4).confState().voters()).isEmpty();
        leader.proposeConfChange(change(Type.ADD_LEARNER, 4));
        c.stabilize();
        assertConf(c.node(4).confState(), simple(THREE, Set.of(4L)), "joined node 4");
        assertThat(c.appliedData(4)).containsExactly("x");
        assertThat(c.logOf(4)).isEqualTo(c.logOf(1));
        assertThat(c.sent(Message.InstallSnapshot.class)).as("no snapshot needed").isEmpty();
    }

    /** Nodes 1..5 all starting in the joint configuration {1,4,5} / {1,2,3} (as if restored from a snapshot). */
    private static TestCluster jointCluster() {
        ConfState joint = new ConfState(Set.of(1L, 4L, 5L), Set.of(), Set.of(1L, 2L, 3L), Set.of(), true);
        TestCluster c = new TestCluster(TestCluster.Options.defaults());
        for (long id = 1; id <= 5; id++) {
            c.add(id, MemoryStorage.withConfState(joint));
        }
        return c;
    }

    /**
     * Raft §6: in C_old,new an election, like a commit, needs a majority of both halves. Node 1
     * with the votes of 4 and 5 (all of C_new) still lacks C_old until 2 votes too; once leader
     * it leaves the joint configuration by itself (thesis §4.3).
     */
    @Test
    void electionInJointConfigurationNeedsBothMajorities() {
        TestCluster c = jointCluster();
        c.cut(1, 2);
        c.cut(1, 3);
        c.node(1).campaign();
        c.stabilize();
        assertThat(c.node(1).role()).as("only C_new agrees").isNotEqualTo(Role.LEADER);

        c.heal();
        c.cut(1, 3);
        c.cut(1, 5);
        c.cut(1, 4);
        c.node(1).campaign();
        c.stabilize();
        assertThat(c.node(1).role()).as("only C_old agrees").isNotEqualTo(Role.LEADER);

        c.heal();
        c.cut(1, 3);
        c.cut(1, 5);
        RaftNode leader = c.elect(1);
        assertThat(leader.confState().isJoint()).isFalse();
        assertConf(leader.confState(), simple(Set.of(1L, 4L, 5L), Set.of()), "leader after auto-leave");
        c.heal();
        c.tickAll(2);
        assertConf(c.node(5).confState(), simple(Set.of(1L, 4L, 5L), Set.of()), "node 5");
    }

    /** Check-quorum in C_old,new: losing contact with a majority of either half deposes the leader. */
    @Test
    void jointLeaderStepsDownWhenEitherHalfLosesItsMajority() {
        TestCluster c = jointCluster();
        // Hold the leader's appends so that its no-op (and so the leave entry) never commits.
        c.hold(m -> m instanceof AppendEntries && m.from() == 1);
        c.elect(1);
        assertThat(c.node(1).confState().isJoint()).isTrue();
        c.isolate(2);
        c.isolate(3);
        for (int i = 0; i < 2 * ELECTION_TICKS && c.node(1).role() == Role.LEADER; i++) {
            c.tick(1);
            c.stabilize();
        }
        assertThat(c.node(1).role()).as("{1,4,5} alone is not a quorum of the joint configuration")
                .isNotEqualTo(Role.LEADER);
    }
}

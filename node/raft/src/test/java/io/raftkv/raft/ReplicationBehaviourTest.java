package io.raftkv.raft;

import io.raftkv.raft.Message.AppendEntries;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.Heartbeat;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Log replication: log matching, backtracking, flow control, commitment (Raft §5.3, §5.4.2, §8). */
class ReplicationBehaviourTest {

    private static final Set<Long> THREE = Set.of(1L, 2L, 3L);
    private static final Set<Long> FIVE = Set.of(1L, 2L, 3L, 4L, 5L);

    /** A storage holding a log built by hand: one entry per given term, at indices 1, 2, ... */
    static MemoryStorage log(Set<Long> voters, long term, long commit, long... entryTerms) {
        MemoryStorage st = MemoryStorage.withConfState(ConfState.ofVoters(voters));
        List<Entry> ents = new ArrayList<>();
        for (int i = 0; i < entryTerms.length; i++) {
            ents.add(Entry.normal(entryTerms[i], i + 1, ("e" + (i + 1) + "t" + entryTerms[i]).getBytes()));
        }
        st.append(ents);
        st.setHardState(new HardState(term, 0, commit));
        return st;
    }

    private static long[] terms(long term, int count, long... prefix) {
        long[] out = new long[prefix.length + count];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        for (int i = prefix.length; i < out.length; i++) {
            out[i] = term;
        }
        return out;
    }

    /**
     * Raft §5.3 with the fast backtracking of etcd (the follower hints the last index whose term is
     * at most the leader's prevTerm): a follower with 100 divergent uncommitted entries from a
     * deposed leader, and another missing 45 entries, each converge after one rejection.
     */
    @Test
    void divergentAndLaggingFollowersConvergeInFewRoundTrips() {
        TestCluster c = new TestCluster(TestCluster.Options.defaults());
        long[] five = {1, 1, 1, 1, 1};
        long[] leaderLog = terms(3, 45, five);             // 1..5 @1, 6..50 @3
        c.add(1, log(THREE, 3, 5, leaderLog));
        c.add(2, log(THREE, 2, 5, terms(2, 100, five)));   // 1..5 @1, 6..105 @2 (never committed)
        c.add(3, log(THREE, 3, 5, five));                  // 1..5 @1, lagging
        c.elect(1);
        c.propose(1, "after");

        List<AppendResponse> rejections = c.sent(AppendResponse.class).stream().filter(AppendResponse::reject).toList();
        assertThat(rejections.stream().filter(r -> r.from() == 2).count()).as("rejections by the divergent node")
                .isLessThanOrEqualTo(2);
        assertThat(rejections.stream().filter(r -> r.from() == 3).count()).as("rejections by the lagging node")
                .isLessThanOrEqualTo(2);
        assertThat(c.logOf(2)).isEqualTo(c.logOf(1));
        assertThat(c.logOf(3)).isEqualTo(c.logOf(1));
        assertThat(c.node(2).lastIndex()).as("the divergent tail is truncated").isEqualTo(c.node(1).lastIndex());
        assertThat(c.appliedData(2)).last().isEqualTo("after");
    }

    /** Raft §5.3: a follower refuses entries whose (prevIndex, prevTerm) it does not hold. */
    @Test
    void followerRejectsAppendWhosePreviousEntryDoesNotMatch() {
        TestCluster c = new TestCluster(TestCluster.Options.defaults());
        c.add(1, log(THREE, 2, 1, 1, 2, 2));
        RaftNode f = c.node(1);
        f.step(new AppendEntries(2, 1, 3, 3, 3, List.of(Entry.normal(3, 4, "x".getBytes())), 1));
        c.processReadies();
        AppendResponse r = c.pending(AppendResponse.class).get(0);
        assertThat(r.reject()).isTrue();
        assertThat(r.index()).isEqualTo(3);
        assertThat(r.rejectHint()).as("last index with term <= prevTerm").isEqualTo(3);
        assertThat(r.logTerm()).isEqualTo(2);
        assertThat(f.lastIndex()).isEqualTo(3);
    }

    /**
     * etcd Progress: a new leader probes each follower with one message at a time and switches
     * to pipelined REPLICATE once a probe is acknowledged.
     */
    @Test
    void progressMovesFromProbeToReplicateOnFirstAcknowledgement() {
        TestCluster c = TestCluster.ofVoters(3);
        c.node(1).campaign();
        c.processReadies();
        while (c.node(1).role() != Role.LEADER) {
            assertThat(c.deliverOne()).isNotNull();
        }
        RaftNode leader = c.node(1);
        assertThat(leader.progress().get(2L).state()).isEqualTo(Progress.State.PROBE);
        assertThat(leader.progress().get(3L).state()).isEqualTo(Progress.State.PROBE);

        // While probing, further proposals send nothing more to the follower.
        c.hold(m -> m.to() == 2);
        leader.propose("a".getBytes());
        leader.propose("b".getBytes());
        c.processReadies();
        assertThat(c.pending(AppendEntries.class).stream().filter(a -> a.to() == 2).count()).isEqualTo(1);

        c.releaseHolds();
        c.stabilize();
        assertThat(leader.progress().get(2L).state()).isEqualTo(Progress.State.REPLICATE);
        assertThat(leader.progress().get(2L).match()).isEqualTo(leader.lastIndex());

        leader.reportUnreachable(2);
        assertThat(leader.progress().get(2L).state()).isEqualTo(Progress.State.PROBE);
        c.propose(1, "c");
        assertThat(leader.progress().get(2L).state()).isEqualTo(Progress.State.REPLICATE);
        assertThat(c.appliedData(2)).containsExactly("a", "b", "c");
    }

    /** etcd MaxInflightMsgs: in REPLICATE at most maxInflightMsgs AppendEntries are unacknowledged. */
    @Test
    void inflightWindowBoundsOutstandingAppends() {
        TestCluster c = TestCluster.ofVoters(3, TestCluster.Options.defaults().maxInflightMsgs(3));
        RaftNode leader = c.elect(1);
        c.hold(m -> m instanceof AppendEntries && m.to() == 2);
        for (int i = 0; i < 10; i++) {
            c.propose(1, "p" + i);
        }
        long outstanding = c.pending(AppendEntries.class).stream()
                .filter(a -> a.to() == 2 && !a.entries().isEmpty()).count();
        assertThat(outstanding).isEqualTo(3);
        assertThat(leader.progress().get(2L).state()).isEqualTo(Progress.State.REPLICATE);
        assertThat(leader.commitIndex()).as("node 3 keeps committing").isEqualTo(leader.lastIndex());

        c.releaseHolds();
        c.stabilize();
        assertThat(c.logOf(2)).isEqualTo(c.logOf(1));
        assertThat(c.appliedData(2)).hasSize(10);
    }

    /**
     * etcd MaxInflightBytes: to a follower that is far behind, the leader keeps at most the byte
     * bound of unacknowledged entries in flight (plus the one message that crosses it), however
     * many the message window would allow, so that its memory stays bounded.
     */
    @Test
    void inflightBytesBoundOutstandingEntriesToAFollowerFarBehind() {
        long maxBytes = 4 * 1024;
        long maxMessage = 1024;
        TestCluster c = TestCluster.ofVoters(3, TestCluster.Options.defaults().maxSizePerMsgBytes(maxMessage)
                .factory((config, storage, applied) -> new RaftNode(config.withMaxInflightBytes(maxBytes), storage, applied)));
        RaftNode leader = c.elect(1);
        c.hold(m -> m instanceof AppendEntries && m.to() == 2);
        for (int i = 0; i < 200; i++) {
            c.propose(1, "v".repeat(200) + i);
        }
        List<AppendEntries> outstanding = c.pending(AppendEntries.class).stream()
                .filter(a -> a.to() == 2 && !a.entries().isEmpty()).toList();
        long bytes = outstanding.stream().flatMap(a -> a.entries().stream()).mapToLong(Entry::sizeBytes).sum();
        assertThat(bytes).as("bytes of entries in flight to the held follower").isLessThan(maxBytes + maxMessage);
        // one ~200-byte entry per message here: about maxBytes / 200 of them, where the message
        // window alone (256) would have let all 200 go
        assertThat(outstanding).as("messages in flight").hasSizeBetween(15, 21);
        assertThat(leader.commitIndex()).as("node 3 keeps committing").isEqualTo(leader.lastIndex());

        c.releaseHolds();
        c.stabilize();
        assertThat(c.logOf(2)).isEqualTo(c.logOf(1));
        assertThat(c.appliedData(2)).hasSize(200);
    }

    /**
     * etcd: if every AppendEntries of a full window is lost, a heartbeat response frees a slot so
     * the leader sends again, learns of the gap from the rejection, and repairs the follower.
     */
    @Test
    void fullWindowOfLostAppendsIsRecoveredByHeartbeats() {
        TestCluster c = TestCluster.ofVoters(3, TestCluster.Options.defaults().maxInflightMsgs(2));
        RaftNode leader = c.elect(1);
        c.cut(1, 2);
        for (int i = 0; i < 5; i++) {
            c.propose(1, "p" + i);
        }
        assertThat(leader.progress().get(2L).state()).isEqualTo(Progress.State.REPLICATE);
        assertThat(leader.progress().get(2L).match()).isLessThan(leader.lastIndex());
        c.heal();
        c.tickAll(3);
        assertThat(c.logOf(2)).isEqualTo(c.logOf(1));
        assertThat(c.appliedData(2)).containsExactly("p0", "p1", "p2", "p3", "p4");
    }

    /** maxSizePerMsgBytes caps the entries of one AppendEntries (at least one entry always goes). */
    @Test
    void maxMessageSizeBoundsEntriesPerAppend() {
        long max = 100; // an 8-byte entry counts 32 bytes: three per message
        TestCluster c = TestCluster.ofVoters(3, TestCluster.Options.defaults().maxSizePerMsgBytes(max));
        c.elect(1);
        c.isolate(2);
        for (int i = 0; i < 20; i++) {
            c.propose(1, String.format("entry-%02d", i));
        }
        c.heal();
        c.clearHistory();
        for (int i = 0; i < 5 && c.node(2).lastIndex() < c.node(1).lastIndex(); i++) {
            c.tickAll();
        }
        assertThat(c.logOf(2)).isEqualTo(c.logOf(1));
        List<AppendEntries> toTwo = c.sent(AppendEntries.class).stream().filter(a -> a.to() == 2).toList();
        for (AppendEntries a : toTwo) {
            long bytes = a.entries().stream().mapToLong(Entry::sizeBytes).sum();
            assertThat(a.entries().size() <= 1 || bytes <= max).as("message %s", a.entries()).isTrue();
        }
        assertThat(toTwo.stream().mapToInt(a -> a.entries().size()).max().orElse(0)).isEqualTo(3);
    }

    /**
     * etcd: a heartbeat carries min(follower's match, commit), so a follower never learns a
     * commit index beyond what it is known to hold.
     */
    @Test
    void heartbeatCarriesCommitCappedByFollowerMatch() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        long match2 = leader.progress().get(2L).match();
        c.cutOneWay(1, 2);
        c.propose(1, "x");
        c.propose(1, "y");
        assertThat(leader.commitIndex()).isGreaterThan(match2);
        c.tick(1);
        List<Heartbeat> hbs = c.pending(Heartbeat.class);
        assertThat(hbs).filteredOn(h -> h.to() == 2).singleElement()
                .satisfies(h -> assertThat(h.commit()).isEqualTo(match2));
        assertThat(hbs).filteredOn(h -> h.to() == 3).singleElement()
                .satisfies(h -> assertThat(h.commit()).isEqualTo(leader.commitIndex()));
    }

    /** Raft §8: a new leader appends an empty entry of its own term and commits it. */
    @Test
    void newLeaderAppendsAndCommitsEmptyEntryOfItsTerm() {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(2);
        long last = leader.lastIndex();
        Entry noop = c.logOf(2).get((int) (last - c.storage(2).firstIndex()));
        assertThat(noop.term()).isEqualTo(leader.term());
        assertThat(noop.type()).isEqualTo(EntryType.NORMAL);
        assertThat(noop.data()).isEmpty();
        assertThat(leader.termAt(last - 1)).isLessThan(leader.term());
        assertThat(leader.commitIndex()).isEqualTo(last);
        for (long id : c.ids()) {
            assertThat(c.applied(id)).last().isEqualTo(noop);
        }
    }

    /** Raft §5.4.2 as the paper's Figure 8, built by hand on five nodes. */
    @Test
    void leaderDoesNotCommitOlderTermEntryByCountingReplicas() {
        TestCluster c = figure8(TestCluster.Options.defaults());
        RaftNode s1 = c.node(1);
        // (c): S1, leader of term 4, has put index 2 (term 2) on S1, S2, S3: a majority.
        assertThat(List.of(1L, 2L, 3L)).allSatisfy(id -> assertThat(c.node(id).termAt(2)).isEqualTo(2));
        assertThat(s1.commitIndex()).as("index 2 is not committed by counting replicas").isEqualTo(1);

        // (d): S1 crashes; S5 wins with S2, S3, S4 and overwrites index 2. Nothing committed is lost.
        figure8TakeOver(c);
        assertThat(c.node(2).termAt(2)).isEqualTo(3);
        assertThat(c.node(5).commitIndex()).isGreaterThanOrEqualTo(2);
    }

    /**
     * The checker can fail: a broken leader that commits older-term entries by counting replicas
     * commits index 2 in Figure 8 (c), and the harness catches the violation in (d): S5 wins
     * without that entry (leader completeness, Raft §5.4) and would overwrite it.
     */
    @Test
    void brokenCommitRuleIsCaughtAsSafetyViolation() {
        TestCluster.Options broken = TestCluster.Options.defaults().factory((cfg, st, applied) -> new RaftNode(cfg, st, applied) {
            @Override
            boolean commitRequiresCurrentTerm() {
                return false;
            }
        });
        TestCluster c = figure8(broken);
        assertThat(c.node(1).commitIndex()).as("the broken rule commits index 2 of term 2").isEqualTo(2);
        Throwable t = catchThrowable(() -> figure8TakeOver(c));
        assertThat(t).isNotNull();
        assertThat(t.getMessage()).containsAnyOf("leader completeness", "state machine safety", "conflicts with committed");
    }

    /** Builds Figure 8 (a)-(c): S1 leads term 4 and has replicated index 2 (term 2) to S2 and S3. */
    private static TestCluster figure8(TestCluster.Options base) {
        TestCluster.Options opts = base.preVote(false).checkQuorum(false).maxSizePerMsgBytes(1);
        TestCluster c = new TestCluster(opts);
        c.add(1, log(FIVE, 3, 1, 1, 2));
        c.add(2, log(FIVE, 3, 1, 1));
        c.add(3, log(FIVE, 3, 1, 1));
        c.add(4, log(FIVE, 3, 1, 1));
        c.add(5, log(FIVE, 3, 1, 1, 3));
        c.cut(1, 4);
        c.cut(1, 5);
        // Let S2 and S3 receive index 2, but not S1's no-op at index 3.
        c.hold(m -> m instanceof AppendEntries a && a.entries().stream().anyMatch(e -> e.index() == 3)
                && c.node(a.to()).lastIndex() >= 2);
        c.elect(1);
        assertThat(c.node(1).term()).isEqualTo(4);
        assertThat(c.node(1).termAt(3)).isEqualTo(4);
        return c;
    }

    /** Figure 8 (d): S1 is gone, S5 becomes leader with the votes of S2, S3, S4. */
    private static void figure8TakeOver(TestCluster c) {
        c.heal();
        c.isolate(1);
        for (int attempt = 0; attempt < 3 && c.node(5).role() != Role.LEADER; attempt++) {
            c.node(5).campaign();
            c.stabilize();
        }
        assertThat(c.node(5).role()).isEqualTo(Role.LEADER);
        c.propose(5, "s5");
    }

    /** Raft §5.1: a follower forwards a client proposal to the leader, which replicates it. */
    @Test
    void followerForwardsProposalToLeader() {
        TestCluster c = TestCluster.ofVoters(3);
        c.elect(1);
        c.propose(3, "via-follower");
        assertThat(c.sent(Message.Propose.class)).singleElement()
                .satisfies(p -> assertThat(p.from() == 3 && p.to() == 1).isTrue());
        for (long id : c.ids()) {
            assertThat(c.appliedData(id)).containsExactly("via-follower");
        }
    }
}

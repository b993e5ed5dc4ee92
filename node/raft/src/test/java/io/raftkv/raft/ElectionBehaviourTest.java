package io.raftkv.raft;

import io.raftkv.raft.Message.AppendEntries;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.HeartbeatResponse;
import io.raftkv.raft.Message.RequestVote;
import io.raftkv.raft.Message.TimeoutNow;
import io.raftkv.raft.Message.VoteResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Function;

import static io.raftkv.raft.TestCluster.ELECTION_TICKS;
import static org.assertj.core.api.Assertions.assertThat;

/** Leader election: timeouts, voting rules, pre-vote and check-quorum (Raft §5.2, §5.4.1; thesis §9.6, §6.2). */
class ElectionBehaviourTest {

    private static final Set<Long> THREE = Set.of(1L, 2L, 3L);

    /**
     * Raft §5.2: with randomized timeouts in [e, 2e) the first node to time out wins before anyone
     * else times out, so a fresh cluster has a leader within 2e ticks.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void freshClusterElectsLeaderWithinTwoElectionTimeouts(long seed) {
        TestCluster c = TestCluster.ofVoters(3, TestCluster.Options.defaults().seed(seed));
        int ticks = 0;
        while (c.leader() == null && ticks < 2 * ELECTION_TICKS) {
            c.tickAll();
            ticks++;
        }
        assertThat(c.leader()).as("leader after %d ticks", ticks).isNotNull();
        assertThat(ticks).isGreaterThanOrEqualTo(ELECTION_TICKS).isLessThan(2 * ELECTION_TICKS);
        long lead = c.leader().id();
        for (long id : c.ids()) {
            assertThat(c.node(id).leader()).isEqualTo(lead);
            assertThat(c.node(id).term()).isEqualTo(1);
        }
    }

    /**
     * Raft §5.2: the election timeout is drawn from [electionTicks, 2 * electionTicks); nodes with
     * different seeds time out at different ticks, and never outside that range.
     */
    @Test
    void randomizedElectionTimeoutLiesInRangeAndVariesWithSeed() {
        Set<Integer> seen = new TreeSet<>();
        for (long seed = 0; seed < 300; seed++) {
            Config cfg = new Config(1, ELECTION_TICKS, 1, 1 << 20, 16, 1 << 20, false, false, new SplittableRandom(seed));
            RaftNode n = new RaftNode(cfg, MemoryStorage.withConfState(ConfState.ofVoters(THREE)), 0);
            int ticks = 0;
            while (n.role() == Role.FOLLOWER) {
                n.tick();
                ticks++;
                assertThat(ticks).as("seed %d", seed).isLessThan(2 * ELECTION_TICKS);
            }
            assertThat(ticks).as("seed %d", seed).isBetween(ELECTION_TICKS, 2 * ELECTION_TICKS - 1);
            seen.add(ticks);

            // Every new term draws a fresh timeout in the same range (no pre-vote: each timeout is a new term).
            for (int round = 0; round < 5; round++) {
                int t = 0;
                long term = n.term();
                while (n.term() == term) {
                    n.tick();
                    t++;
                    assertThat(t).as("seed %d round %d", seed, round).isLessThan(2 * ELECTION_TICKS);
                }
                assertThat(t).isGreaterThanOrEqualTo(ELECTION_TICKS);
                seen.add(t);
            }
        }
        assertThat(seen).as("distinct timeouts over many seeds").hasSize(ELECTION_TICKS);
    }

    /** A node built by hand from a log: (index, term) for each entry, plus a hard state. */
    static MemoryStorage storageWithLog(Set<Long> voters, long term, long vote, long commit, long... entryTerms) {
        MemoryStorage st = MemoryStorage.withConfState(ConfState.ofVoters(voters));
        List<Entry> ents = new ArrayList<>();
        for (int i = 0; i < entryTerms.length; i++) {
            ents.add(Entry.normal(entryTerms[i], i + 1, ("e" + (i + 1)).getBytes()));
        }
        st.append(ents);
        st.setHardState(new HardState(term, vote, commit));
        return st;
    }

    private static RaftNode plainNode(long id, MemoryStorage st) {
        Config cfg = new Config(id, ELECTION_TICKS, 1, 1 << 20, 16, 1 << 20, false, false, new SplittableRandom(id));
        return new RaftNode(cfg, st, 0);
    }

    private static List<Message> drain(RaftNode n) {
        Ready rd = n.ready();
        n.advance(rd);
        return rd.messages();
    }

    private static VoteResponse onlyVoteResponse(RaftNode n) {
        List<Message> out = drain(n);
        assertThat(out).hasSize(1).first().isInstanceOf(VoteResponse.class);
        return (VoteResponse) out.get(0);
    }

    /** Raft §5.2 / Figure 2: at most one vote per term; a repeated request from the same candidate is granted again. */
    @Test
    void nodeGrantsAtMostOneVotePerTerm() {
        RaftNode n = plainNode(1, storageWithLog(THREE, 1, 0, 1, 1));
        n.step(new RequestVote(2, 1, 2, 1, 1, false, false));
        assertThat(onlyVoteResponse(n).reject()).isFalse();
        assertThat(n.vote()).isEqualTo(2);

        n.step(new RequestVote(3, 1, 2, 5, 1, false, false));
        assertThat(onlyVoteResponse(n).reject()).as("second candidate in the same term").isTrue();
        assertThat(n.vote()).isEqualTo(2);

        n.step(new RequestVote(2, 1, 2, 1, 1, false, false));
        assertThat(onlyVoteResponse(n).reject()).as("retransmitted request of the chosen candidate").isFalse();

        n.step(new RequestVote(3, 1, 3, 1, 1, false, false));
        assertThat(onlyVoteResponse(n).reject()).as("a new term allows a new vote").isFalse();
        assertThat(n.vote()).isEqualTo(3);
        assertThat(n.term()).isEqualTo(3);
    }

    /** Raft §5.4.1: same last term but a shorter log is less up-to-date; the vote is refused (term still adopted). */
    @Test
    void voteRefusedToCandidateWithShorterLogOfSameLastTerm() {
        RaftNode n = plainNode(1, storageWithLog(THREE, 2, 0, 1, 1, 2, 2));
        n.step(new RequestVote(2, 1, 3, 2, 2, false, false));
        VoteResponse r = onlyVoteResponse(n);
        assertThat(r.reject()).isTrue();
        assertThat(r.term()).isEqualTo(3);
        assertThat(n.vote()).isEqualTo(RaftNode.NONE);

        n.step(new RequestVote(3, 1, 3, 3, 2, false, false));
        assertThat(onlyVoteResponse(n).reject()).as("equally long log").isFalse();
    }

    /** Raft §5.4.1: a lower last term is less up-to-date however long the log is. */
    @Test
    void voteRefusedToCandidateWithLowerLastTermEvenIfLonger() {
        RaftNode n = plainNode(1, storageWithLog(THREE, 3, 0, 1, 1, 3));
        n.step(new RequestVote(2, 1, 4, 10, 2, false, false));
        assertThat(onlyVoteResponse(n).reject()).isTrue();

        n.step(new RequestVote(3, 1, 4, 1, 4, false, false));
        assertThat(onlyVoteResponse(n).reject()).as("higher last term, shorter log").isFalse();
    }

    /**
     * Thesis §9.6: a node partitioned away keeps failing its pre-vote without raising its term,
     * so on rejoining it neither raises the cluster's term nor deposes the leader.
     */
    @Test
    void rejoiningPartitionedNodeDoesNotBumpTermOrDeposeLeader() {
        TestCluster c = TestCluster.ofVoters(3);
        c.elect(1);
        long term = c.node(1).term();
        c.clearHistory();

        c.isolate(3);
        c.tickAll(10 * ELECTION_TICKS);
        assertThat(c.node(3).term()).as("pre-vote keeps the isolated node's term").isEqualTo(term);
        assertThat(c.node(3).role()).isEqualTo(Role.PRE_CANDIDATE);
        c.propose(1, "while-away");

        c.heal();
        c.tickAll(10 * ELECTION_TICKS);
        for (long id : c.ids()) {
            assertThat(c.node(id).term()).as("term of %d", id).isEqualTo(term);
            assertThat(c.node(id).leader()).as("leader seen by %d", id).isEqualTo(1);
        }
        assertThat(c.sent(RequestVote.class)).allMatch(RequestVote::preVote);
        assertThat(c.appliedData(3)).containsExactly("while-away");
    }

    /**
     * Thesis §9.6: answering a pre-vote never changes the receiver's term (here a refusal; see
     * ReadyContractBehaviourTest for a grant), and the refused pre-candidate does not change its
     * own term either. Check-quorum is off so
     * the lease does not hide the request.
     */
    @Test
    void preVoteRequestChangesNobodysTerm() {
        TestCluster c = TestCluster.ofVoters(3, TestCluster.Options.defaults().checkQuorum(false));
        c.elect(1);
        long term = c.node(1).term();
        c.isolate(3);
        c.propose(1, "x"); // node 3 is now behind
        while (c.node(3).role() != Role.PRE_CANDIDATE) {
            c.tick(3);
        }
        List<RequestVote> pre = c.pending(RequestVote.class);
        assertThat(pre).isNotEmpty().allMatch(RequestVote::preVote).allMatch(rv -> rv.term() == term + 1);

        c.node(1).step(pre.stream().filter(rv -> rv.to() == 1).findFirst().orElseThrow());
        c.node(2).step(pre.stream().filter(rv -> rv.to() == 2).findFirst().orElseThrow());
        c.processReadies();
        assertThat(c.node(1).term()).isEqualTo(term);
        assertThat(c.node(1).role()).isEqualTo(Role.LEADER);
        assertThat(c.node(2).term()).isEqualTo(term);
        List<VoteResponse> answers = c.pending(VoteResponse.class);
        assertThat(answers).hasSize(2).allMatch(VoteResponse::reject).allMatch(VoteResponse::preVote);

        c.heal();
        c.dropPending();
        for (VoteResponse vr : answers) {
            c.node(3).step(vr);
        }
        c.processReadies();
        assertThat(c.node(3).term()).isEqualTo(term);
        assertThat(c.node(3).role()).isEqualTo(Role.FOLLOWER);
        c.tickAll(3 * ELECTION_TICKS);
        assertThat(c.node(1).role()).isEqualTo(Role.LEADER);
        assertThat(c.node(1).term()).isEqualTo(term);
    }

    /**
     * Check-quorum (thesis §6.2): a leader that hears from no quorum for an election timeout steps
     * down. As in etcd, activity is sampled once per election timeout, so the step-down comes at
     * the first check after a full timeout of silence: after more than one and at most two
     * election timeouts from the cut.
     */
    @Test
    void leaderIsolatedFromMajorityStepsDownWithinCheckQuorumWindow() {
        TestCluster c = TestCluster.ofVoters(3);
        c.elect(1);
        long term = c.node(1).term();
        c.isolate(1);
        int ticks = 0;
        while (c.node(1).role() == Role.LEADER) {
            c.tickAll();
            ticks++;
            assertThat(ticks).as("ticks without stepping down").isLessThanOrEqualTo(2 * ELECTION_TICKS);
        }
        assertThat(ticks).as("contact was fresh at the cut: the first check still sees it").isGreaterThan(ELECTION_TICKS);
        assertThat(c.node(1).role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.node(1).term()).as("stepping down does not need a new term").isEqualTo(term);
        assertThat(c.node(1).leader()).isEqualTo(RaftNode.NONE);
    }

    /** Check-quorum must not depose a leader that does hear from a quorum, however long it runs. */
    @Test
    void leaderWithQuorumContactStaysLeader() {
        TestCluster c = TestCluster.ofVoters(3);
        c.elect(1);
        long term = c.node(1).term();
        c.isolate(3);
        c.tickAll(20 * ELECTION_TICKS);
        assertThat(c.node(1).role()).isEqualTo(Role.LEADER);
        assertThat(c.node(1).term()).isEqualTo(term);
    }

    /**
     * Thesis §4.2.3 / §6.2 (leader lease): a follower that heard from its leader within the
     * election timeout ignores a RequestVote of a higher term (no reply, no term change); once the
     * lease has lapsed it votes normally. A transfer-flagged request bypasses the lease.
     */
    @Test
    void followerIgnoresVoteRequestsWhileLeaderLeaseHolds() {
        TestCluster c = TestCluster.ofVoters(3);
        c.elect(1);
        long term = c.node(1).term();
        long last = c.node(2).lastIndex();
        long lastTerm = c.node(2).termAt(last);
        c.dropPending();

        c.node(2).step(new RequestVote(3, 2, term + 1, last, lastTerm, false, false));
        c.processReadies();
        assertThat(c.pending()).as("no answer inside the lease").isEmpty();
        assertThat(c.node(2).term()).isEqualTo(term);
        assertThat(c.node(2).leader()).isEqualTo(1);

        c.node(2).step(new RequestVote(3, 2, term + 1, last, lastTerm, false, true));
        c.processReadies();
        assertThat(c.pending(VoteResponse.class)).singleElement().satisfies(vr -> assertThat(vr.reject()).isFalse());
        assertThat(c.node(2).term()).isEqualTo(term + 1);
    }

    /** Thesis §4.2.3: once an election timeout passes without word from the leader, the lease is over and votes are granted. */
    @Test
    void followerVotesOnceLeaderLeaseHasLapsed() {
        TestCluster c = TestCluster.ofVoters(3);
        c.elect(1);
        long term = c.node(1).term();
        long last = c.node(2).lastIndex();
        long lastTerm = c.node(2).termAt(last);
        c.isolate(1);
        for (int i = 0; i < ELECTION_TICKS; i++) {
            c.node(2).tick();
        }
        c.processReadies();
        c.dropPending();
        c.node(2).step(new RequestVote(3, 2, term + 1, last, lastTerm, false, false));
        c.processReadies();
        assertThat(c.pending(VoteResponse.class)).singleElement().satisfies(vr -> assertThat(vr.reject()).isFalse());
        assertThat(c.node(2).term()).isEqualTo(term + 1);
        assertThat(c.node(2).vote()).isEqualTo(3);
    }

    /**
     * Raft §5.1: a node that sees a higher term in any message adopts it, and a leader steps down.
     * (RequestVote is the exception under check-quorum: the leader's own lease ignores it.)
     */
    @ParameterizedTest
    @ValueSource(strings = {"AppendEntries", "Heartbeat", "AppendResponse", "HeartbeatResponse", "VoteResponse", "TimeoutNow"})
    void higherTermInAnyMessageMakesLeaderStepDown(String kind) {
        TestCluster c = TestCluster.ofVoters(3);
        RaftNode leader = c.elect(1);
        long t = leader.term() + 1;
        long li = leader.lastIndex();
        long ci = leader.commitIndex();
        Function<Long, Message> make = switch (kind) {
            case "AppendEntries" -> term -> new AppendEntries(2, 1, term, li, leader.termAt(li), List.of(), ci);
            case "Heartbeat" -> term -> new Heartbeat(2, 1, term, ci, null);
            case "AppendResponse" -> term -> new AppendResponse(2, 1, term, li, false, 0, 0);
            case "HeartbeatResponse" -> term -> new HeartbeatResponse(2, 1, term, null);
            case "VoteResponse" -> term -> new VoteResponse(2, 1, term, true, false);
            case "TimeoutNow" -> term -> new TimeoutNow(2, 1, term);
            default -> throw new IllegalArgumentException(kind);
        };
        leader.step(make.apply(t));
        c.processReadies();
        assertThat(leader.role()).isNotEqualTo(Role.LEADER);
        if (kind.equals("TimeoutNow")) {
            // stepped down at t, then obeyed TimeoutNow as a follower: campaigns at t + 1
            assertThat(leader.term()).isEqualTo(t + 1);
        } else {
            assertThat(leader.term()).isEqualTo(t);
        }
        if (kind.equals("AppendEntries") || kind.equals("Heartbeat")) {
            assertThat(leader.leader()).as("the sender of a leader message is the new leader").isEqualTo(2);
        }
    }

    /** Raft §5.2: a candidate that hears from a leader of its own term becomes its follower. */
    @Test
    void candidateStepsDownOnAppendFromLeaderOfSameTerm() {
        RaftNode n = plainNode(1, storageWithLog(THREE, 1, 0, 1, 1));
        n.campaign();
        drain(n);
        assertThat(n.role()).isEqualTo(Role.CANDIDATE);
        long term = n.term();
        n.step(new AppendEntries(2, 1, term, 1, 1, List.of(), 1));
        assertThat(n.role()).isEqualTo(Role.FOLLOWER);
        assertThat(n.leader()).isEqualTo(2);
        assertThat(n.term()).isEqualTo(term);
        assertThat(n.vote()).as("its vote in this term stands").isEqualTo(1);
    }

    /**
     * etcd (pre-vote without check-quorum): a stale leader that never notices its partition is
     * told the newer term by a follower's reply to its heartbeat, and steps down.
     */
    @Test
    void staleLeaderStepsDownWhenFollowerAnswersWithNewerTerm() {
        TestCluster c = TestCluster.ofVoters(3, TestCluster.Options.defaults().checkQuorum(false));
        RaftNode old = c.elect(1);
        c.isolate(1);
        c.node(2).campaign();
        c.stabilize();
        assertThat(c.node(2).role()).isEqualTo(Role.LEADER);
        assertThat(old.role()).as("nothing told it yet").isEqualTo(Role.LEADER);

        c.heal();
        c.tick(1);
        c.stabilize();
        assertThat(old.role()).isEqualTo(Role.FOLLOWER);
        assertThat(old.term()).isEqualTo(c.node(2).term());
        c.tickAll(3);
        assertThat(old.leader()).isEqualTo(2);
    }
}

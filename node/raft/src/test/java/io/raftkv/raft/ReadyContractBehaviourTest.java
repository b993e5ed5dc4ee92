package io.raftkv.raft;

import io.raftkv.raft.Message.AppendEntries;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.RequestVote;
import io.raftkv.raft.Message.VoteResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static io.raftkv.raft.TestCluster.ELECTION_TICKS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Ready contract of {@link RaftNode}: what a Ready holds, and when (etcd RawNode semantics). */
class ReadyContractBehaviourTest {

    private static final Set<Long> THREE = Set.of(1L, 2L, 3L);

    private static RaftNode node(long id, boolean preVote, MemoryStorage st) {
        Config cfg = new Config(id, ELECTION_TICKS, 1, 1 << 20, 16, 1 << 20, preVote, false, new SplittableRandom(id));
        return new RaftNode(cfg, st, 0);
    }

    private static RaftNode fresh(long id, boolean preVote) {
        return node(id, preVote, MemoryStorage.withConfState(ConfState.ofVoters(THREE)));
    }

    /** Persists a Ready into {@code st} the way the contract says, then advances. */
    private static Ready handle(RaftNode n, MemoryStorage st) {
        Ready rd = n.ready();
        if (rd.snapshot() != null) {
            st.applySnapshot(rd.snapshot());
        }
        st.append(rd.entries());
        if (rd.hardState() != null) {
            st.setHardState(rd.hardState());
        }
        n.advance(rd);
        return rd;
    }

    /** Messages are handed over once: a Ready holds exactly those produced since the previous one. */
    @Test
    void readyMessagesAreOnlyThoseProducedSinceThePreviousReady() {
        MemoryStorage st = MemoryStorage.withConfState(ConfState.ofVoters(THREE));
        RaftNode n = node(1, true, st);
        n.campaign();
        Ready pre = handle(n, st);
        assertThat(pre.messages()).hasSize(2).allMatch(m -> m instanceof RequestVote rv && rv.preVote());
        assertThat(n.hasReady()).isFalse();

        n.step(new VoteResponse(2, 1, 1, false, true));
        Ready vote = n.ready();
        assertThat(vote.messages()).hasSize(2).allMatch(m -> m instanceof RequestVote rv && !rv.preVote());
        // Produced between ready() and advance(): belongs to the next Ready.
        n.step(new VoteResponse(2, 1, 1, false, false));
        assertThat(n.role()).isEqualTo(Role.LEADER);
        n.advance(vote);
        st.append(vote.entries());
        st.setHardState(vote.hardState());
        Ready lead = handle(n, st);
        assertThat(lead.messages()).hasSize(2).allMatch(m -> m instanceof AppendEntries);
        assertThat(lead.messages()).doesNotContainAnyElementsOf(vote.messages());
    }

    /** ready() may not be called again before the previous Ready is advanced. */
    @Test
    void secondReadyBeforeAdvanceIsRejected() {
        RaftNode n = fresh(1, false);
        n.campaign();
        Ready rd = n.ready();
        assertThatThrownBy(n::ready).isInstanceOf(IllegalStateException.class);
        n.advance(rd);
        n.ready();
    }

    /**
     * etcd: a Ready carries the hard state only when it changed; a term or vote change or new
     * entries need an fsync before sending (Raft Figure 2), a commit-only change does not.
     */
    @Test
    void hardStateOnlyWhenChangedAndMustSyncOnlyForTermVoteOrEntries() {
        MemoryStorage st = MemoryStorage.withConfState(ConfState.ofVoters(THREE));
        RaftNode n = node(1, false, st);
        n.tick();
        assertThat(n.hasReady()).as("a quiet tick changes nothing").isFalse();

        n.campaign();
        Ready cand = handle(n, st);
        assertThat(cand.hardState()).isEqualTo(new HardState(1, 1, 0));
        assertThat(cand.mustSync()).isTrue();
        assertThat(cand.softState()).isEqualTo(new SoftState(RaftNode.NONE, Role.CANDIDATE));

        n.step(new VoteResponse(2, 1, 1, false, false));
        Ready lead = handle(n, st);
        assertThat(lead.hardState()).as("term, vote and commit unchanged").isNull();
        assertThat(lead.entries()).hasSize(1);
        assertThat(lead.mustSync()).as("new entries").isTrue();
        assertThat(lead.committedEntries()).isEmpty();

        n.step(new AppendResponse(2, 1, 1, 1, false, 0, 0));
        Ready commit = handle(n, st);
        assertThat(commit.hardState()).isEqualTo(new HardState(1, 1, 1));
        assertThat(commit.entries()).isEmpty();
        assertThat(commit.mustSync()).as("commit index alone needs no fsync").isFalse();
        assertThat(commit.committedEntries()).extracting(Entry::index).containsExactly(1L);
    }

    /** A vote change within the same term must be synced before the VoteResponse leaves. */
    @Test
    void voteInSameTermRequiresSync() {
        MemoryStorage st = MemoryStorage.withConfState(ConfState.ofVoters(THREE));
        st.setHardState(new HardState(2, 0, 0));
        RaftNode n = node(1, false, st);
        n.step(new RequestVote(2, 1, 2, 0, 0, false, false));
        Ready rd = handle(n, st);
        assertThat(rd.hardState()).isEqualTo(new HardState(2, 2, 0));
        assertThat(rd.mustSync()).isTrue();
        assertThat(rd.messages()).singleElement().isInstanceOf(VoteResponse.class);
    }

    /** Thesis §9.6: granting a pre-vote changes no durable state, so the Ready carries no hard state. */
    @Test
    void grantingPreVoteChangesNoHardState() {
        MemoryStorage st = MemoryStorage.withConfState(ConfState.ofVoters(THREE));
        RaftNode n = node(1, true, st);
        n.step(new RequestVote(2, 1, 1, 0, 0, true, false));
        Ready rd = handle(n, st);
        assertThat(rd.hardState()).isNull();
        assertThat(rd.mustSync()).isFalse();
        assertThat(rd.messages()).singleElement()
                .satisfies(m -> assertThat(((VoteResponse) m).reject()).isFalse());
    }

    /**
     * Committed entries handed to the application never go beyond the commit index the same Ready
     * reports (or the last one persisted), on any node, through a run with partitions and a
     * leader change.
     */
    @Test
    void committedEntriesNeverBeyondCommit() {
        TestCluster c = TestCluster.ofVoters(3);
        c.elect(1);
        c.propose(1, "a");
        c.cut(1, 3);
        c.propose(1, "b");
        c.isolate(1);
        c.tickAll(4 * ELECTION_TICKS);
        RaftNode leader = c.leader();
        assertThat(leader.id()).isNotEqualTo(1);
        c.propose(leader.id(), "c");
        c.heal();
        c.tickAll(2 * ELECTION_TICKS);
        for (long id : c.ids()) {
            long commit = 0;
            for (Ready rd : c.readies(id)) {
                if (rd.hardState() != null) {
                    commit = rd.hardState().commit();
                }
                for (Entry e : rd.committedEntries()) {
                    assertThat(e.index()).as("node %d", id).isLessThanOrEqualTo(commit);
                }
            }
            assertThat(c.appliedData(id)).as("node %d", id).containsExactly("a", "b", "c");
        }
    }

    /** A follower's entries and the commit that covers them arrive in one Ready; entries are persisted first. */
    @Test
    void followerCommitsEntriesOnlyFromTheSameOrEarlierReady() {
        MemoryStorage st = MemoryStorage.withConfState(ConfState.ofVoters(THREE));
        RaftNode n = node(2, false, st);
        n.step(new AppendEntries(1, 2, 1, 0, 0, List.of(Entry.normal(1, 1, "a".getBytes()), Entry.normal(1, 2, "b".getBytes())), 1));
        Ready rd = handle(n, st);
        assertThat(rd.entries()).extracting(Entry::index).containsExactly(1L, 2L);
        assertThat(rd.hardState()).isEqualTo(new HardState(1, 0, 1));
        assertThat(rd.committedEntries()).extracting(Entry::index).containsExactly(1L);
        assertThat(rd.mustSync()).isTrue();

        n.step(new Heartbeat(1, 2, 1, 2, null));
        Ready hb = handle(n, st);
        assertThat(hb.entries()).isEmpty();
        assertThat(hb.committedEntries()).extracting(Entry::index).containsExactly(2L);
        assertThat(hb.mustSync()).isFalse();
    }

    /** maxApplyBytes caps the committed entries of one Ready; the rest follow in order in later Readies. */
    @Test
    void committedEntriesAreBatchedByMaxApplyBytes() {
        MemoryStorage st = MemoryStorage.withConfState(ConfState.ofVoters(THREE));
        Config cfg = new Config(2, ELECTION_TICKS, 1, 1 << 20, 16, 100, false, false, new SplittableRandom(2));
        RaftNode n = new RaftNode(cfg, st, 0);
        List<Entry> ents = new java.util.ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            ents.add(Entry.normal(1, i, "12345678".getBytes())); // 32 bytes each
        }
        n.step(new AppendEntries(1, 2, 1, 0, 0, ents, 10));
        List<Long> appliedIdx = new java.util.ArrayList<>();
        int readies = 0;
        while (n.hasReady()) {
            Ready rd = handle(n, st);
            readies++;
            long bytes = rd.committedEntries().stream().mapToLong(Entry::sizeBytes).sum();
            assertThat(rd.committedEntries().size() <= 1 || bytes <= 100).isTrue();
            rd.committedEntries().forEach(e -> appliedIdx.add(e.index()));
        }
        assertThat(appliedIdx).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        assertThat(readies).isGreaterThanOrEqualTo(4);
        assertThat(n.appliedIndex()).isEqualTo(10);
    }

    /**
     * The driver may keep stepping the node between ready() and advance(): what happens meanwhile
     * lands in the next Ready, and nothing is lost or handed out twice.
     */
    @Test
    void steppingBetweenReadyAndAdvanceDefersToNextReady() {
        MemoryStorage st = MemoryStorage.withConfState(ConfState.ofVoters(THREE));
        RaftNode n = node(2, false, st);
        n.step(new AppendEntries(1, 2, 1, 0, 0, List.of(Entry.normal(1, 1, "a".getBytes())), 0));
        Ready first = n.ready();
        n.step(new AppendEntries(1, 2, 1, 1, 1, List.of(Entry.normal(1, 2, "b".getBytes())), 2));
        st.append(first.entries());
        st.setHardState(first.hardState());
        n.advance(first);
        assertThat(first.entries()).extracting(Entry::index).containsExactly(1L);
        assertThat(first.committedEntries()).isEmpty();
        assertThat(first.messages()).hasSize(1);

        Ready second = handle(n, st);
        assertThat(second.entries()).extracting(Entry::index).containsExactly(2L);
        assertThat(second.hardState()).isEqualTo(new HardState(1, 0, 2));
        assertThat(second.committedEntries()).extracting(Entry::index).containsExactly(1L, 2L);
        assertThat(second.messages()).hasSize(1).doesNotContainAnyElementsOf(first.messages());
        assertThat(n.hasReady()).isFalse();
    }

    /**
     * Raft Figure 2 via the Ready contract: the vote is persisted before the VoteResponse leaves,
     * so a crash between ready() and persisting loses the vote and the grant together; the node
     * may then vote again in that term without ever having promised two candidates.
     */
    @Test
    void crashBeforePersistingVoteLosesTheGrantToo() {
        TestCluster c = TestCluster.ofVoters(3, TestCluster.Options.defaults().preVote(false).checkQuorum(false));
        c.node(2).step(new RequestVote(1, 2, 1, 0, 0, false, false));
        assertThat(c.holdReady(2)).isTrue();
        c.restart(2);
        assertThat(c.pending()).as("the grant never left").isEmpty();
        assertThat(c.node(2).vote()).isEqualTo(RaftNode.NONE);
        assertThat(c.storage(2).hardState().vote()).isEqualTo(RaftNode.NONE);

        c.node(2).step(new RequestVote(3, 2, 1, 0, 0, false, false));
        c.processReadies();
        assertThat(c.pending(VoteResponse.class)).singleElement().satisfies(vr -> {
            assertThat(vr.to()).isEqualTo(3);
            assertThat(vr.reject()).isFalse();
        });
        assertThat(c.storage(2).hardState()).isEqualTo(new HardState(1, 3, 0));
    }
}

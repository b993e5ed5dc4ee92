package io.raftkv.raft;

import io.raftkv.raft.Message.AppendEntries;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.HeartbeatResponse;
import io.raftkv.raft.Message.InstallSnapshot;
import io.raftkv.raft.Message.Propose;
import io.raftkv.raft.Message.ReadIndexRequest;
import io.raftkv.raft.Message.ReadIndexResponse;
import io.raftkv.raft.Message.RequestVote;
import io.raftkv.raft.Message.TimeoutNow;
import io.raftkv.raft.Message.TransferLeader;
import io.raftkv.raft.Message.VoteResponse;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One Raft node as a pure, deterministic state machine (the model is etcd-io/raft's RawNode).
 *
 * <p>Inputs: {@link #tick()}, {@link #step(Message)}, {@link #propose(byte[])},
 * {@link #proposeConfChange(ConfChange)}, {@link #readIndex(byte[])},
 * {@link #transferLeadership(long)}, and transport reports. Output: a {@link Ready}, acknowledged
 * with {@link #advance(Ready)}; see {@link Ready} for the contract (persist, then send, then
 * apply only committed entries). The node performs no I/O, owns no thread and reads no clock; all
 * randomness comes from {@link Config#random()}.
 *
 * <p>Not thread-safe: one driver thread calls everything. Between {@link #ready()} and
 * {@link #advance(Ready)} the driver may keep stepping the node, but must not call
 * {@link #ready()} again.
 *
 * <p>Membership: a configuration takes effect as soon as its entry is appended to the log, not
 * when it commits (thesis §4.1); every change goes through the joint configuration C_old,new
 * and the leader leaves it by itself once the joint entry commits (thesis §4.3).
 */
public class RaftNode {
    /** The id meaning "nobody". */
    public static final long NONE = 0;

    private final Config cfg;
    private final long id;
    final RaftLog log;

    private long term;
    private long vote;
    private long lead = NONE;
    private Role role = Role.FOLLOWER;

    private int electionElapsed;
    private int heartbeatElapsed;
    private int randomizedElectionTimeout;

    private final TreeMap<Long, Progress> progress = new TreeMap<>();
    private final Map<Long, Boolean> votes = new HashMap<>();
    private ConfState conf = ConfState.EMPTY;
    /** Configurations by the index of the entry that introduced them; [0] is the snapshot's. */
    private final ArrayList<ConfPoint> confHistory = new ArrayList<>();

    private long leadTransferee = NONE;
    private final ReadIndexQueue readQueue = new ReadIndexQueue();
    private final List<PendingRead> readsBeforeCommit = new ArrayList<>();

    private ArrayList<Message> msgs = new ArrayList<>();
    private ArrayList<ReadState> readStates = new ArrayList<>();

    private SoftState prevSoftState;
    private HardState prevHardState;
    private boolean readyOutstanding;

    private record ConfPoint(long index, ConfState conf) {
    }

    private record PendingRead(long from, byte[] context) {
    }

    /**
     * Restores a node from its storage.
     *
     * @param config  parameters; {@code config.random()} must be seeded by the caller
     * @param storage the durable log as of the last persisted Ready; its initial configuration is
     *                the configuration at the snapshot index
     * @param applied index the application's state machine has applied (0 for none); committed
     *                entries above it are delivered again
     */
    public RaftNode(Config config, Storage storage, long applied) {
        this.cfg = config;
        this.id = config.id();
        this.log = new RaftLog(storage, config.maxApplyBytes());
        Storage.InitialState init = storage.initialState();
        HardState hs = init.hardState();

        // The initial configuration is the one at the snapshot index; entries kept below it after
        // compaction are already reflected in it.
        long base = Math.max(storage.snapshot().metadata().index(), storage.firstIndex() - 1);
        confHistory.add(new ConfPoint(base, init.confState()));
        long last = storage.lastIndex();
        for (long lo = base + 1; lo <= last; ) {
            List<Entry> chunk = storage.entries(lo, last + 1, 64L << 20);
            for (Entry e : chunk) {
                if (e.type() == EntryType.CONF_CHANGE) {
                    ConfState next = ConfChanges.apply(latestConf(), ConfChange.decode(e.data()));
                    confHistory.add(new ConfPoint(e.index(), next));
                }
            }
            lo += chunk.size();
        }
        applyConf(latestConf());

        if (!hs.isEmpty()) {
            if (hs.commit() < log.committed || hs.commit() > log.lastIndex()) {
                throw new IllegalStateException("hard state commit " + hs.commit() + " is out of range ["
                        + log.committed + ", " + log.lastIndex() + "]");
            }
            log.committed = hs.commit();
            term = hs.term();
            vote = hs.vote();
        }
        if (applied > 0) {
            if (applied > log.committed) {
                throw new IllegalStateException("applied " + applied + " is beyond commit " + log.committed);
            }
            log.applied = Math.max(log.applied, applied);
        }
        becomeFollower(term, NONE);
        prevHardState = hardState();
        prevSoftState = softState();
    }

    // ---------------------------------------------------------------- public inputs

    /** Advances logical time by one tick: election timeouts for followers, heartbeats for leaders. */
    public void tick() {
        if (role == Role.LEADER) {
            tickLeader();
        } else {
            tickElection();
        }
    }

    /** Starts an election now (pre-vote first if enabled), if this node is a voter. */
    public void campaign() {
        hup(false);
    }

    /**
     * Proposes one entry of application data.
     *
     * @throws ProposalDroppedException if there is no leader to take it, or a transfer is running
     */
    public void propose(byte[] data) {
        proposeEntries(List.of(new Entry(0, 0, EntryType.NORMAL, data)));
    }

    /** Proposes several entries at once, sharing one append and one round of messages. */
    public void proposeBatch(List<byte[]> data) {
        List<Entry> ents = new ArrayList<>(data.size());
        for (byte[] d : data) {
            ents.add(new Entry(0, 0, EntryType.NORMAL, d));
        }
        proposeEntries(ents);
    }

    /**
     * Proposes a membership change. Refused while another change is in flight (uncommitted, or
     * the configuration is joint), or if the change is invalid (e.g. it removes every voter).
     *
     * @throws ProposalDroppedException when refused here; a follower forwards without checking
     */
    public void proposeConfChange(ConfChange cc) {
        if (cc.isLeaveJoint()) {
            throw new ProposalDroppedException("leaving a joint configuration is automatic");
        }
        proposeEntries(List.of(new Entry(0, 0, EntryType.CONF_CHANGE, cc.encode())));
    }

    /**
     * Requests a linearizable read point (thesis §6.4). The result arrives later as a
     * {@link ReadState} with the same context; contexts must be unique among pending reads.
     *
     * @throws ProposalDroppedException if no leader is known
     */
    public void readIndex(byte[] context) {
        if (role == Role.LEADER) {
            leaderReadIndex(id, context);
        } else if (lead != NONE) {
            send(new ReadIndexRequest(id, lead, 0, context));
        } else {
            throw new ProposalDroppedException("no leader");
        }
    }

    /**
     * Asks to move leadership to {@code transferee} (thesis §3.10). The leader catches it up, then
     * sends TimeoutNow; it refuses proposals meanwhile and gives up after an election timeout.
     */
    public void transferLeadership(long transferee) {
        if (role == Role.LEADER) {
            leaderTransfer(transferee);
        } else if (lead != NONE) {
            send(new TransferLeader(id, lead, 0, transferee));
        } else {
            throw new ProposalDroppedException("no leader");
        }
    }

    /** The transport could not reach {@code peer}: stop pipelining to it and probe instead. */
    public void reportUnreachable(long peer) {
        Progress pr = progress.get(peer);
        if (role == Role.LEADER && pr != null && pr.state == Progress.State.REPLICATE) {
            pr.becomeProbe();
        }
    }

    /**
     * The transport finished (or failed) sending a snapshot to {@code peer}. Either way the leader
     * resumes probing; on failure it waits for the next heartbeat response first.
     */
    public void reportSnapshot(long peer, boolean success) {
        Progress pr = progress.get(peer);
        if (role != Role.LEADER || pr == null || pr.state != Progress.State.SNAPSHOT) {
            return;
        }
        if (!success) {
            pr.pendingSnapshot = 0;
        }
        pr.becomeProbe();
        pr.probeSent = !success;
    }

    /**
     * Feeds a message from another node. Messages with a stale term are answered or ignored as
     * the protocol requires; any message is safe to deliver at any time, twice or out of order.
     */
    public void step(Message m) {
        long t = m.term();
        if (t == 0) {
            // forwarded requests: not term-checked
        } else if (t > term) {
            if (m instanceof RequestVote rv) {
                boolean inLease = cfg.checkQuorum() && lead != NONE && electionElapsed < cfg.electionTicks();
                if (!rv.transfer() && inLease) {
                    return; // our leader is alive: ignore a disruptive candidate (thesis §4.2.3)
                }
            }
            if (m instanceof RequestVote rv && rv.preVote()) {
                // a pre-vote never changes our term
            } else if (m instanceof VoteResponse vr && vr.preVote() && !vr.reject()) {
                // granted pre-votes come at the term we have not entered yet
            } else if (m instanceof AppendEntries || m instanceof Heartbeat || m instanceof InstallSnapshot) {
                becomeFollower(t, m.from());
            } else {
                becomeFollower(t, NONE);
            }
        } else if (t < term) {
            // Raft §5.1: a request with a stale term is rejected with our term, so the sender
            // learns it. A stale leader steps down; a candidate behind us catches up its term
            // (otherwise a node whose configuration is stale could stall the cluster forever).
            if (m instanceof AppendEntries || m instanceof Heartbeat) {
                send(new AppendResponse(id, m.from(), term, 0, false, 0, 0));
            } else if (m instanceof RequestVote rv) {
                send(new VoteResponse(id, m.from(), term, true, rv.preVote()));
            }
            return;
        }

        if (m instanceof RequestVote rv) {
            handleVoteRequest(rv);
            return;
        }
        switch (role) {
            case LEADER -> stepLeader(m);
            case CANDIDATE, PRE_CANDIDATE -> stepCandidate(m);
            case FOLLOWER -> stepFollower(m);
        }
    }

    // ---------------------------------------------------------------- Ready

    /** True if {@link #ready()} would return something to do. */
    public boolean hasReady() {
        if (!softState().equals(prevSoftState)) {
            return true;
        }
        if (!hardState().equals(prevHardState)) {
            return true;
        }
        return log.unstableSnapshot() != null || !log.unstableEntries().isEmpty() || !msgs.isEmpty()
                || log.hasNextCommitted() || !readStates.isEmpty();
    }

    /**
     * Collects the work accumulated since the last {@link #advance(Ready)}. Messages and read
     * states are handed over (not returned again); entries and hard state are returned until
     * acknowledged by {@link #advance(Ready)}.
     *
     * @throws IllegalStateException if the previous Ready was not advanced
     */
    public Ready ready() {
        if (readyOutstanding) {
            throw new IllegalStateException("advance() the previous Ready first");
        }
        SoftState ss = softState();
        SoftState softOut = ss.equals(prevSoftState) ? null : ss;
        prevSoftState = ss;
        HardState hs = hardState();
        HardState hardOut = hs.equals(prevHardState) ? null : hs;
        List<Entry> ents = log.unstableEntries();
        Snapshot snap = log.unstableSnapshot();
        List<Message> out = msgs;
        msgs = new ArrayList<>();
        List<Entry> committed = log.nextCommitted();
        List<ReadState> rs = readStates;
        readStates = new ArrayList<>();
        boolean mustSync = !ents.isEmpty() || snap != null
                || (hardOut != null && (hardOut.term() != prevHardState.term() || hardOut.vote() != prevHardState.vote()));
        readyOutstanding = true;
        return new Ready(softOut, hardOut, ents, snap, out, committed, rs, mustSync);
    }

    /** Acknowledges that {@code rd} was persisted, sent and applied as the contract requires. */
    public void advance(Ready rd) {
        if (rd.hardState() != null) {
            prevHardState = rd.hardState();
        }
        if (rd.snapshot() != null) {
            log.stableSnapTo(rd.snapshot().metadata().index());
            log.appliedTo(rd.snapshot().metadata().index());
        }
        if (!rd.entries().isEmpty()) {
            Entry last = rd.entries().get(rd.entries().size() - 1);
            log.stableTo(last.index(), last.term());
        }
        if (!rd.committedEntries().isEmpty()) {
            log.appliedTo(rd.committedEntries().get(rd.committedEntries().size() - 1).index());
        }
        readyOutstanding = false;
    }

    // ---------------------------------------------------------------- queries

    /** This node's id. */
    public long id() {
        return id;
    }

    /** Current term. */
    public long term() {
        return term;
    }

    /** Known leader of the current term, or {@link #NONE}. */
    public long leader() {
        return lead;
    }

    /** Current role. */
    public Role role() {
        return role;
    }

    /** Highest index known committed. */
    public long commitIndex() {
        return log.committed;
    }

    /** Highest index handed to the application to apply (acknowledged by advance). */
    public long appliedIndex() {
        return log.applied;
    }

    /** Index of the last entry in the log. */
    public long lastIndex() {
        return log.lastIndex();
    }

    /** Term of the entry at {@code index}, or 0 if it is not in the log. */
    public long termAt(long index) {
        return log.term(index);
    }

    /** Vote cast in the current term, or {@link #NONE}. */
    public long vote() {
        return vote;
    }

    /** The latest configuration in the log (effective now, committed or not). */
    public ConfState confState() {
        return conf;
    }

    /**
     * The configuration in effect at {@code index}, for {@code index} at or above the snapshot the
     * node started from (the application records it with its snapshots).
     */
    public ConfState confStateAt(long index) {
        ConfState cs = confHistory.get(0).conf();
        for (ConfPoint p : confHistory) {
            if (p.index() <= index) {
                cs = p.conf();
            }
        }
        return cs;
    }

    /** True if a membership change is appended but not committed, or the configuration is joint. */
    public boolean confChangeInFlight() {
        return lastConfIndex() > log.committed || conf.isJoint();
    }

    /** The pending leadership transfer target, or {@link #NONE}. */
    public long leadTransferee() {
        return leadTransferee;
    }

    /** Leader only: replication progress of every member, by id. Read-only view. */
    public Map<Long, Progress> progress() {
        return Collections.unmodifiableMap(progress);
    }

    /** Number of ReadIndex requests waiting for a quorum round (leader only). */
    public int pendingReadCount() {
        return readQueue.size() + readsBeforeCommit.size();
    }

    // ---------------------------------------------------------------- overridable rules

    /**
     * Raft §5.4.2: a leader commits by counting replicas only entries of its own term. Tests build
     * a broken variant by overriding this in test code.
     */
    boolean commitRequiresCurrentTerm() {
        return true;
    }

    /** Raft §5.4.1: vote only for a candidate whose log is at least as up-to-date as ours. */
    boolean candidateLogIsUpToDate(long lastIndex, long lastTerm) {
        return log.isUpToDate(lastIndex, lastTerm);
    }

    /** Thesis §6.4: a read point needs a heartbeat round proving leadership. */
    boolean readIndexNeedsQuorumRound() {
        return true;
    }

    // ---------------------------------------------------------------- state transitions

    private SoftState softState() {
        return new SoftState(lead, role);
    }

    private HardState hardState() {
        return new HardState(term, vote, log.committed);
    }

    private boolean promotable() {
        return conf.voters().contains(id) || conf.votersOutgoing().contains(id);
    }

    /**
     * Thesis §4.1: a server that is not part of its latest configuration should still start
     * elections while that configuration is uncommitted, as it may be needed to commit it (its own
     * vote is not counted). So a node may campaign if it is a voter in its latest configuration
     * or in the latest committed one.
     */
    private boolean canCampaign() {
        if (promotable()) {
            return true;
        }
        ConfState committed = confStateAt(log.committed);
        return committed.voters().contains(id) || committed.votersOutgoing().contains(id);
    }

    private void reset(long newTerm) {
        if (term != newTerm) {
            term = newTerm;
            vote = NONE;
        }
        lead = NONE;
        electionElapsed = 0;
        heartbeatElapsed = 0;
        randomizedElectionTimeout = cfg.electionTicks() + cfg.random().nextInt(cfg.electionTicks());
        leadTransferee = NONE;
        votes.clear();
        long last = log.lastIndex();
        for (Map.Entry<Long, Progress> e : progress.entrySet()) {
            Progress pr = e.getValue();
            pr.inflights.reset();
            pr.state = Progress.State.PROBE;
            pr.probeSent = false;
            pr.pendingSnapshot = 0;
            pr.recentActive = false;
            pr.match = 0;
            pr.next = last + 1;
            if (e.getKey() == id) {
                pr.match = last;
                pr.recentActive = true;
            }
        }
        readQueue.clear();
        readsBeforeCommit.clear();
    }

    private void becomeFollower(long newTerm, long leader) {
        reset(newTerm);
        lead = leader;
        role = Role.FOLLOWER;
    }

    private void becomePreCandidate() {
        votes.clear();
        lead = NONE;
        role = Role.PRE_CANDIDATE;
    }

    private void becomeCandidate() {
        reset(term + 1);
        vote = id;
        role = Role.CANDIDATE;
    }

    private void becomeLeader() {
        reset(term);
        lead = id;
        role = Role.LEADER;
        // Raft §8: a no-op entry of the new term lets the leader learn what is committed.
        appendEntries(new ArrayList<>(List.of(new Entry(0, 0, EntryType.NORMAL, null))));
        leaderCommitStep();
        bcastAppend();
    }

    private void hup(boolean transfer) {
        if (role == Role.LEADER || !canCampaign()) {
            return;
        }
        campaign(cfg.preVote() && !transfer, transfer);
    }

    private void campaign(boolean pre, boolean transfer) {
        long voteTerm;
        if (pre) {
            becomePreCandidate();
            voteTerm = term + 1;
        } else {
            becomeCandidate();
            voteTerm = term;
        }
        votes.put(id, true);
        Quorum.VoteResult r = Quorum.voteResult(conf.voters(), conf.votersOutgoing(), votes);
        if (r == Quorum.VoteResult.WON) {
            if (pre) {
                campaign(false, transfer);
            } else {
                becomeLeader();
            }
            return;
        }
        TreeSet<Long> voters = new TreeSet<>(conf.voters());
        voters.addAll(conf.votersOutgoing());
        for (long v : voters) {
            if (v != id) {
                send(new RequestVote(id, v, voteTerm, log.lastIndex(), log.lastTerm(), pre, transfer));
            }
        }
    }

    // ---------------------------------------------------------------- ticks

    private void tickElection() {
        electionElapsed++;
        if (electionElapsed >= randomizedElectionTimeout && canCampaign()) {
            electionElapsed = 0;
            hup(false);
        }
    }

    private void tickLeader() {
        heartbeatElapsed++;
        electionElapsed++;
        if (electionElapsed >= cfg.electionTicks()) {
            electionElapsed = 0;
            if (cfg.checkQuorum()) {
                if (!quorumActive()) {
                    // The seed card's "stale leader in a minority steps down".
                    becomeFollower(term, NONE);
                    return;
                }
            }
            if (leadTransferee != NONE) {
                leadTransferee = NONE; // thesis §3.10: abort after an election timeout
            }
        }
        if (heartbeatElapsed >= cfg.heartbeatTicks()) {
            heartbeatElapsed = 0;
            bcastHeartbeat(readQueue.lastPendingContext());
        }
    }

    private boolean quorumActive() {
        Map<Long, Boolean> active = new HashMap<>();
        for (Map.Entry<Long, Progress> e : progress.entrySet()) {
            active.put(e.getKey(), e.getKey() == id || e.getValue().recentActive);
            if (e.getKey() != id) {
                e.getValue().recentActive = false;
            }
        }
        return Quorum.voteResult(conf.voters(), conf.votersOutgoing(), active) == Quorum.VoteResult.WON;
    }

    // ---------------------------------------------------------------- votes

    private void handleVoteRequest(RequestVote rv) {
        boolean canVote = vote == rv.from() || (vote == NONE && lead == NONE) || (rv.preVote() && rv.term() > term);
        if (canVote && candidateLogIsUpToDate(rv.lastIndex(), rv.lastTerm())) {
            send(new VoteResponse(id, rv.from(), rv.term(), false, rv.preVote()));
            if (!rv.preVote()) {
                electionElapsed = 0;
                vote = rv.from();
            }
        } else {
            send(new VoteResponse(id, rv.from(), term, true, rv.preVote()));
        }
    }

    // ---------------------------------------------------------------- follower and candidate

    private void stepFollower(Message m) {
        if (m instanceof Propose p) {
            if (p.from() == id && lead != NONE) {
                send(new Propose(id, lead, 0, p.entries()));
            }
        } else if (m instanceof AppendEntries a) {
            electionElapsed = 0;
            lead = a.from();
            handleAppendEntries(a);
        } else if (m instanceof Heartbeat h) {
            electionElapsed = 0;
            lead = h.from();
            handleHeartbeat(h);
        } else if (m instanceof InstallSnapshot s) {
            electionElapsed = 0;
            lead = s.from();
            handleSnapshot(s);
        } else if (m instanceof TimeoutNow) {
            hup(true);
        } else if (m instanceof ReadIndexResponse r) {
            readStates.add(new ReadState(r.index(), r.context()));
        }
        // Forwarded requests reaching a follower are dropped rather than forwarded again, so they
        // cannot loop; the client times out and retries.
    }

    private void stepCandidate(Message m) {
        if (m instanceof AppendEntries a) {
            becomeFollower(term, a.from());
            handleAppendEntries(a);
        } else if (m instanceof Heartbeat h) {
            becomeFollower(term, h.from());
            handleHeartbeat(h);
        } else if (m instanceof InstallSnapshot s) {
            becomeFollower(term, s.from());
            handleSnapshot(s);
        } else if (m instanceof VoteResponse vr) {
            if (vr.preVote() != (role == Role.PRE_CANDIDATE)) {
                return;
            }
            votes.putIfAbsent(vr.from(), !vr.reject());
            switch (Quorum.voteResult(conf.voters(), conf.votersOutgoing(), votes)) {
                case WON -> {
                    if (role == Role.PRE_CANDIDATE) {
                        campaign(false, false);
                    } else {
                        becomeLeader();
                    }
                }
                case LOST -> becomeFollower(term, NONE);
                case PENDING -> {
                }
            }
        }
    }

    private void handleAppendEntries(AppendEntries a) {
        if (a.prevIndex() < log.committed) {
            send(new AppendResponse(id, a.from(), term, log.committed, false, 0, 0));
            return;
        }
        List<Entry> appended = new ArrayList<>();
        long lastNew = log.maybeAppend(a.prevIndex(), a.prevTerm(), a.commit(), a.entries(), appended);
        if (lastNew >= 0) {
            onEntriesAppended(appended);
            send(new AppendResponse(id, a.from(), term, lastNew, false, 0, 0));
        } else {
            long hint = Math.min(a.prevIndex(), log.lastIndex());
            hint = log.findConflictByTerm(hint, a.prevTerm());
            send(new AppendResponse(id, a.from(), term, a.prevIndex(), true, hint, log.term(hint)));
        }
    }

    private void handleHeartbeat(Heartbeat h) {
        log.commitTo(h.commit());
        send(new HeartbeatResponse(id, h.from(), term, h.context()));
    }

    private void handleSnapshot(InstallSnapshot s) {
        Snapshot snap = s.snapshot();
        long sindex = snap.metadata().index();
        if (sindex > log.committed && !log.matchTerm(sindex, snap.metadata().term())) {
            log.restore(snap);
            confHistory.clear();
            confHistory.add(new ConfPoint(sindex, snap.metadata().confState()));
            applyConf(snap.metadata().confState());
            send(new AppendResponse(id, s.from(), term, log.lastIndex(), false, 0, 0));
            return;
        }
        if (sindex > log.committed) {
            log.commitTo(sindex); // we already hold the snapshot's last entry: fast-forward
        }
        send(new AppendResponse(id, s.from(), term, log.committed, false, 0, 0));
    }

    // ---------------------------------------------------------------- leader

    private void stepLeader(Message m) {
        if (m instanceof Propose p) {
            try {
                leaderPropose(new ArrayList<>(p.entries()));
            } catch (ProposalDroppedException dropped) {
                // a forwarded proposal is dropped silently; its client times out
            }
        } else if (m instanceof ReadIndexRequest r) {
            leaderReadIndex(r.from(), r.context());
        } else if (m instanceof TransferLeader t) {
            leaderTransfer(t.transferee());
        } else if (m instanceof AppendResponse r) {
            handleAppendResponse(r);
        } else if (m instanceof HeartbeatResponse r) {
            handleHeartbeatResponse(r);
        }
    }

    private void proposeEntries(List<Entry> ents) {
        switch (role) {
            case LEADER -> leaderPropose(new ArrayList<>(ents));
            case FOLLOWER -> {
                if (lead == NONE) {
                    throw new ProposalDroppedException("no leader");
                }
                send(new Propose(id, lead, 0, ents));
            }
            default -> throw new ProposalDroppedException("election in progress");
        }
    }

    private void leaderPropose(List<Entry> ents) {
        if (leadTransferee != NONE) {
            throw new ProposalDroppedException("leadership transfer to " + leadTransferee + " in progress");
        }
        if (!progress.containsKey(id)) {
            throw new ProposalDroppedException("leader is not in the configuration");
        }
        List<Entry> out = new ArrayList<>(ents.size());
        boolean sawConf = false;
        for (Entry e : ents) {
            if (e.type() == EntryType.CONF_CHANGE) {
                ConfChange cc;
                try {
                    cc = ConfChange.decode(e.data());
                } catch (IllegalArgumentException bad) {
                    throw new ProposalDroppedException("malformed configuration change: " + bad.getMessage());
                }
                if (cc.isLeaveJoint()) {
                    throw new ProposalDroppedException("leaving a joint configuration is automatic");
                }
                if (sawConf || confChangeInFlight()) {
                    throw new ProposalDroppedException("another configuration change is in progress");
                }
                try {
                    ConfChanges.apply(conf, cc);
                } catch (IllegalArgumentException invalid) {
                    throw new ProposalDroppedException("invalid configuration change: " + invalid.getMessage());
                }
                sawConf = true;
            }
            out.add(e);
        }
        appendEntries(out);
        leaderCommitStep();
        bcastAppend();
    }

    /** Assigns term and index to {@code ents}, appends them and counts the leader's own copy. */
    private void appendEntries(List<Entry> ents) {
        long li = log.lastIndex();
        for (int i = 0; i < ents.size(); i++) {
            Entry e = ents.get(i);
            ents.set(i, new Entry(term, li + 1 + i, e.type(), e.data()));
        }
        log.append(ents);
        onEntriesAppended(ents);
        Progress self = progress.get(id);
        if (self != null) {
            self.maybeUpdate(log.lastIndex());
        }
    }

    private boolean maybeCommit() {
        long mci = Quorum.committedIndex(conf.voters(), conf.votersOutgoing(), this::matchOf);
        return log.maybeCommit(mci, term, commitRequiresCurrentTerm());
    }

    private long matchOf(long node) {
        Progress pr = progress.get(node);
        return pr == null ? 0 : pr.match;
    }

    /**
     * After the commit index may have moved: release reads waiting for the first commit of the
     * term, leave a committed joint configuration, step down if removed, and tell followers.
     */
    private void leaderCommitStep() {
        while (role == Role.LEADER && maybeCommit()) {
            if (log.term(log.committed) == term && !readsBeforeCommit.isEmpty()) {
                List<PendingRead> waiting = new ArrayList<>(readsBeforeCommit);
                readsBeforeCommit.clear();
                for (PendingRead r : waiting) {
                    leaderReadIndex(r.from(), r.context());
                }
            }
            if (conf.isJoint() && conf.autoLeave() && lastConfIndex() <= log.committed) {
                Entry leave = new Entry(0, 0, EntryType.CONF_CHANGE, ConfChange.leaveJoint().encode());
                appendEntries(new ArrayList<>(List.of(leave)));
            }
            if (!promotable() && lastConfIndex() <= log.committed) {
                // Thesis §4.2.2: a leader outside C_new steps down once C_new is committed.
                bcastAppend();
                becomeFollower(term, NONE);
                return;
            }
            bcastAppend();
        }
    }

    private void handleAppendResponse(AppendResponse r) {
        Progress pr = progress.get(r.from());
        if (pr == null) {
            return;
        }
        pr.recentActive = true;
        if (r.reject()) {
            long nextProbe = r.rejectHint();
            if (r.logTerm() > 0) {
                nextProbe = log.findConflictByTerm(r.rejectHint(), r.logTerm());
            }
            if (pr.maybeDecrTo(r.index(), nextProbe)) {
                if (pr.state == Progress.State.REPLICATE) {
                    pr.becomeProbe();
                }
                sendAppend(r.from(), true);
            }
            return;
        }
        boolean wasPaused = pr.isPaused();
        if (!pr.maybeUpdate(r.index())) {
            // An acknowledgement of what we already knew still proves a probe has found the
            // match point: start pipelining (otherwise an idle follower stays in PROBE).
            if (pr.state == Progress.State.PROBE && pr.match == r.index()) {
                pr.becomeReplicate();
                while (sendAppend(r.from(), false)) {
                    // fill the pipelining window
                }
            }
            return;
        }
        switch (pr.state) {
            case PROBE -> pr.becomeReplicate();
            case SNAPSHOT -> {
                if (pr.match + 1 >= log.firstIndex()) {
                    pr.becomeProbe();
                    pr.becomeReplicate();
                }
            }
            case REPLICATE -> pr.inflights.freeLE(r.index());
        }
        long before = log.committed;
        leaderCommitStep();
        if (role != Role.LEADER) {
            return;
        }
        if (log.committed == before && wasPaused) {
            sendAppend(r.from(), true);
        }
        while (sendAppend(r.from(), false)) {
            // fill the pipelining window
        }
        if (r.from() == leadTransferee && pr.match == log.lastIndex()) {
            send(new TimeoutNow(id, r.from(), term));
        }
    }

    private void handleHeartbeatResponse(HeartbeatResponse r) {
        Progress pr = progress.get(r.from());
        if (pr == null) {
            return;
        }
        pr.recentActive = true;
        pr.probeSent = false;
        if (pr.state == Progress.State.REPLICATE && pr.inflights.full()) {
            // A lost AppendEntries would otherwise hold the window shut forever.
            pr.inflights.freeFirstOne();
        }
        if (pr.match < log.lastIndex()) {
            sendAppend(r.from(), true);
        }
        byte[] ctx = r.context();
        if (ctx == null || ctx.length == 0) {
            return;
        }
        Set<Long> acks = readQueue.recvAck(r.from(), ctx);
        if (acks == null || !quorumOf(acks)) {
            return;
        }
        for (ReadIndexQueue.Pending p : readQueue.advance(ctx)) {
            releaseRead(p.from(), p.index(), p.context());
        }
    }

    private boolean quorumOf(Set<Long> acks) {
        Map<Long, Boolean> m = new HashMap<>();
        for (long a : acks) {
            m.put(a, true);
        }
        return Quorum.voteResult(conf.voters(), conf.votersOutgoing(), m) == Quorum.VoteResult.WON;
    }

    private void leaderReadIndex(long from, byte[] ctx) {
        if (log.term(log.committed) != term) {
            // Thesis §6.4: until an entry of this term commits the leader may not know the
            // latest commit index; hold the read.
            readsBeforeCommit.add(new PendingRead(from, ctx));
            return;
        }
        if (!readIndexNeedsQuorumRound()) {
            releaseRead(from, log.committed, ctx);
            return;
        }
        readQueue.add(log.committed, from, ctx);
        Set<Long> acks = readQueue.recvAck(id, ctx);
        if (acks != null && quorumOf(acks)) {
            for (ReadIndexQueue.Pending p : readQueue.advance(ctx)) {
                releaseRead(p.from(), p.index(), p.context());
            }
            return;
        }
        bcastHeartbeat(ctx);
    }

    private void releaseRead(long from, long index, byte[] ctx) {
        if (from == id) {
            readStates.add(new ReadState(index, ctx));
        } else {
            send(new ReadIndexResponse(id, from, term, index, ctx));
        }
    }

    private void leaderTransfer(long transferee) {
        Progress pr = progress.get(transferee);
        if (pr == null || pr.learner || transferee == id) {
            return;
        }
        if (leadTransferee == transferee) {
            return;
        }
        leadTransferee = transferee;
        electionElapsed = 0;
        if (pr.match == log.lastIndex()) {
            send(new TimeoutNow(id, transferee, term));
        } else {
            sendAppend(transferee, true);
        }
    }

    private void bcastAppend() {
        for (long to : progress.keySet()) {
            if (to != id) {
                sendAppend(to, true);
            }
        }
    }

    private void bcastHeartbeat(byte[] ctx) {
        for (Map.Entry<Long, Progress> e : progress.entrySet()) {
            if (e.getKey() != id) {
                long commit = Math.min(e.getValue().match, log.committed);
                send(new Heartbeat(id, e.getKey(), term, commit, ctx));
            }
        }
    }

    /** Sends entries (or a snapshot) to {@code to} if flow control allows; true if sent. */
    private boolean sendAppend(long to, boolean sendIfEmpty) {
        Progress pr = progress.get(to);
        if (pr == null || pr.isPaused()) {
            return false;
        }
        if (pr.next < log.firstIndex()) {
            return sendSnapshot(to, pr);
        }
        List<Entry> ents = log.entries(pr.next, cfg.maxSizePerMsgBytes());
        if (ents.isEmpty() && !sendIfEmpty) {
            return false;
        }
        long prevIndex = pr.next - 1;
        send(new AppendEntries(id, to, term, prevIndex, log.term(prevIndex), ents, log.committed));
        if (pr.state == Progress.State.REPLICATE) {
            if (!ents.isEmpty()) {
                long last = ents.get(ents.size() - 1).index();
                long bytes = 0;
                for (Entry e : ents) {
                    bytes += e.sizeBytes();
                }
                pr.next = last + 1;
                pr.inflights.add(last, bytes);
            }
        } else {
            pr.probeSent = true;
        }
        return true;
    }

    private boolean sendSnapshot(long to, Progress pr) {
        if (!pr.recentActive) {
            return false;
        }
        Snapshot snap;
        try {
            snap = log.snapshot();
        } catch (Storage.SnapshotTemporarilyUnavailableException e) {
            return false;
        }
        if (snap.isEmpty()) {
            throw new IllegalStateException("follower " + to + " needs a snapshot but none exists");
        }
        send(new InstallSnapshot(id, to, term, snap));
        pr.becomeSnapshot(snap.metadata().index());
        return true;
    }

    // ---------------------------------------------------------------- configuration

    private ConfState latestConf() {
        return confHistory.get(confHistory.size() - 1).conf();
    }

    private long lastConfIndex() {
        return confHistory.get(confHistory.size() - 1).index();
    }

    /**
     * Keeps the configuration equal to the latest one in the log: drops configurations whose
     * entries were just overwritten, adds those of the new entries.
     */
    private void onEntriesAppended(List<Entry> ents) {
        if (ents.isEmpty()) {
            return;
        }
        long from = ents.get(0).index();
        boolean changed = false;
        while (confHistory.size() > 1 && lastConfIndex() >= from) {
            confHistory.remove(confHistory.size() - 1);
            changed = true;
        }
        for (Entry e : ents) {
            if (e.type() == EntryType.CONF_CHANGE) {
                ConfState next = ConfChanges.apply(latestConf(), ConfChange.decode(e.data()));
                confHistory.add(new ConfPoint(e.index(), next));
                changed = true;
            }
        }
        if (changed) {
            applyConf(latestConf());
        }
    }

    private void applyConf(ConfState cs) {
        conf = cs;
        TreeSet<Long> members = new TreeSet<>(cs.voters());
        members.addAll(cs.votersOutgoing());
        members.addAll(cs.learners());
        members.addAll(cs.learnersNext());
        progress.keySet().retainAll(members);
        for (long m : members) {
            Progress pr = progress.get(m);
            if (pr == null) {
                pr = new Progress(log.lastIndex() + 1, cfg.maxInflightMsgs(), cfg.maxInflightBytes(), false);
                pr.recentActive = true;
                if (m == id) {
                    pr.match = log.lastIndex();
                }
                progress.put(m, pr);
            }
            pr.learner = cs.learners().contains(m);
        }
        if (role == Role.LEADER && leadTransferee != NONE && !promotableIn(cs, leadTransferee)) {
            leadTransferee = NONE;
        }
    }

    private static boolean promotableIn(ConfState cs, long node) {
        return cs.voters().contains(node) || cs.votersOutgoing().contains(node);
    }

    private void send(Message m) {
        msgs.add(m);
    }

    @Override
    public String toString() {
        return "node " + id + " " + role + " term=" + term + " lead=" + lead + " commit=" + log.committed
                + " last=" + log.lastIndex();
    }
}

package io.raftkv.raft;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * A deterministic in-memory cluster of {@link RaftNode}s for behaviour tests: no threads, no
 * clock; the test advances ticks and decides which messages travel.
 *
 * <p>Every Ready is processed exactly as the {@link Ready} contract says: persist the snapshot,
 * the entries and the hard state into the node's {@link MemoryStorage}, then hand the messages to
 * the network, then record the snapshot and committed entries as applied, then advance. After
 * every Ready the harness checks the invariants that must hold at every step (committed entries
 * contiguous, persisted, never beyond commit, identical on every node; at most one leader per
 * term; a new leader holds every committed entry), so a test fails at the step that breaks them,
 * not at the end.
 *
 * <p>The network is one FIFO queue. A message on a cut link is dropped when its turn comes (an
 * InstallSnapshot dropped this way is reported to the sender as failed); a message matching a
 * hold predicate stays queued until the hold is lifted. A delivered InstallSnapshot is reported
 * to the sender as successful, as a transport would after streaming it.
 */
final class TestCluster {
    /** Default election timeout of the harness: long enough to see the randomized spread. */
    static final int ELECTION_TICKS = 10;
    /** Default heartbeat interval of the harness. */
    static final int HEARTBEAT_TICKS = 1;

    /** Builds a node from its config, storage and applied index; tests substitute deliberately broken variants. */
    interface NodeFactory {
        RaftNode create(Config config, Storage storage, long applied);
    }

    private final TreeMap<Long, RaftNode> nodes = new TreeMap<>();
    private final Map<Long, MemoryStorage> storages = new HashMap<>();
    private final Map<Long, List<Entry>> applied = new HashMap<>();
    private final Map<Long, List<Snapshot>> appliedSnapshots = new HashMap<>();
    private final Map<Long, Long> lastApplied = new HashMap<>();
    private final Map<Long, List<ReadState>> readStates = new HashMap<>();
    private final Map<Long, List<Ready>> readies = new HashMap<>();
    private final Map<Long, Ready> outstanding = new HashMap<>();

    private final ArrayList<Message> queue = new ArrayList<>();
    private final List<Message> sent = new ArrayList<>();
    private final List<Message> delivered = new ArrayList<>();
    private final Set<List<Long>> cut = new HashSet<>();
    private final List<Predicate<Message>> holds = new ArrayList<>();
    private final List<String> snapshotReports = new ArrayList<>();

    /** Entry committed at each index by anyone: state machine safety, Raft §5.4.3. */
    private final Map<Long, Entry> committedByIndex = new HashMap<>();
    /** Leader seen in each term: election safety, Raft §5.2. */
    private final Map<Long, Long> leaderByTerm = new HashMap<>();

    private final Options options;

    /** Tunables of a cluster; every node gets the same except its id and seed. */
    record Options(int electionTicks, int heartbeatTicks, long maxSizePerMsgBytes, int maxInflightMsgs,
                   boolean preVote, boolean checkQuorum, long seed, NodeFactory factory) {
        static Options defaults() {
            return new Options(ELECTION_TICKS, HEARTBEAT_TICKS, 1 << 20, 256, true, true, 1,
                    RaftNode::new);
        }

        Options preVote(boolean on) {
            return new Options(electionTicks, heartbeatTicks, maxSizePerMsgBytes, maxInflightMsgs, on, checkQuorum, seed, factory);
        }

        Options checkQuorum(boolean on) {
            return new Options(electionTicks, heartbeatTicks, maxSizePerMsgBytes, maxInflightMsgs, preVote, on, seed, factory);
        }

        Options maxSizePerMsgBytes(long bytes) {
            return new Options(electionTicks, heartbeatTicks, bytes, maxInflightMsgs, preVote, checkQuorum, seed, factory);
        }

        Options maxInflightMsgs(int n) {
            return new Options(electionTicks, heartbeatTicks, maxSizePerMsgBytes, n, preVote, checkQuorum, seed, factory);
        }

        Options seed(long s) {
            return new Options(electionTicks, heartbeatTicks, maxSizePerMsgBytes, maxInflightMsgs, preVote, checkQuorum, s, factory);
        }

        Options factory(NodeFactory f) {
            return new Options(electionTicks, heartbeatTicks, maxSizePerMsgBytes, maxInflightMsgs, preVote, checkQuorum, seed, f);
        }

        Config config(long id) {
            return new Config(id, electionTicks, heartbeatTicks, maxSizePerMsgBytes, maxInflightMsgs, 64L << 20,
                    preVote, checkQuorum, new SplittableRandom(seed * 1_000_003L + id));
        }
    }

    TestCluster(Options options) {
        this.options = options;
    }

    /** A cluster of voters {@code 1..n}, all fresh, with default options. */
    static TestCluster ofVoters(int n) {
        return ofVoters(n, Options.defaults());
    }

    /** A cluster of voters {@code 1..n}, all fresh. */
    static TestCluster ofVoters(int n, Options options) {
        Set<Long> voters = new LinkedHashSet<>();
        for (long i = 1; i <= n; i++) {
            voters.add(i);
        }
        return of(ConfState.ofVoters(voters), options);
    }

    /**
     * A new cluster of voters {@code 1..n} started the etcd way: every member's log holds the
     * {@link Bootstrap} configuration entry at index 1, so nodes added later with an empty
     * storage learn the configuration by replication.
     */
    static TestCluster bootstrapped(int n, Options options) {
        Set<Long> voters = new LinkedHashSet<>();
        for (long i = 1; i <= n; i++) {
            voters.add(i);
        }
        TestCluster c = new TestCluster(options);
        for (long id : voters) {
            c.add(id, MemoryStorage.bootstrap(voters));
        }
        return c;
    }

    /** {@link #bootstrapped(int, Options)} with default options. */
    static TestCluster bootstrapped(int n) {
        return bootstrapped(n, Options.defaults());
    }

    /** A cluster holding every member of {@code cs} (voters and learners), all fresh. */
    static TestCluster of(ConfState cs, Options options) {
        TestCluster c = new TestCluster(options);
        Set<Long> members = new TreeSet<>(cs.voters());
        members.addAll(cs.learners());
        for (long id : members) {
            c.add(id, MemoryStorage.withConfState(cs));
        }
        return c;
    }

    /** Adds a node over an existing storage (fresh, bootstrapped, or built by hand). */
    RaftNode add(long id, MemoryStorage storage) {
        RaftNode n = options.factory().create(options.config(id), storage, 0);
        nodes.put(id, n);
        storages.put(id, storage);
        applied.put(id, new ArrayList<>());
        appliedSnapshots.put(id, new ArrayList<>());
        readStates.put(id, new ArrayList<>());
        readies.put(id, new ArrayList<>());
        lastApplied.put(id, storage.firstIndex() - 1);
        return n;
    }

    /**
     * Crash and restart: the node keeps only its storage (a Ready taken by {@link #holdReady} and
     * not yet handled is lost, as in a crash before persisting it) and resumes from it with the
     * index its state machine had applied. Messages in flight to it stay in the network.
     */
    RaftNode restart(long id) {
        outstanding.remove(id);
        MemoryStorage st = storages.get(id);
        long appliedIndex = lastApplied.get(id);
        RaftNode n = options.factory().create(options.config(id), st, appliedIndex);
        nodes.put(id, n);
        return n;
    }

    Options options() {
        return options;
    }

    RaftNode node(long id) {
        RaftNode n = nodes.get(id);
        if (n == null) {
            throw new IllegalArgumentException("no node " + id);
        }
        return n;
    }

    MemoryStorage storage(long id) {
        return storages.get(id);
    }

    Set<Long> ids() {
        return nodes.keySet();
    }

    // ---------------------------------------------------------------- Ready processing

    /** Processes every node's Ready until none has anything left (nodes with a held Ready wait). */
    void processReadies() {
        boolean any = true;
        while (any) {
            any = false;
            for (long id : new ArrayList<>(nodes.keySet())) {
                if (!outstanding.containsKey(id)) {
                    any |= processReady(id);
                }
            }
        }
    }

    /**
     * Takes {@code id}'s Ready but does not handle it yet: the node may be stepped meanwhile (the
     * contract allows it) until {@link #finishReady(long)}; a {@link #restart(long)} before that
     * is a crash before persisting, and the Ready is lost. False if there was nothing to take.
     */
    boolean holdReady(long id) {
        RaftNode n = node(id);
        if (outstanding.containsKey(id) || !n.hasReady()) {
            return false;
        }
        outstanding.put(id, n.ready());
        return true;
    }

    /** Handles the Ready taken by {@link #holdReady(long)}, then anything newer. */
    void finishReady(long id) {
        Ready rd = outstanding.remove(id);
        if (rd != null) {
            handle(id, rd);
        }
        processReadies();
    }

    /** Nodes whose Ready is taken but not yet handled, in id order (the simulation must stay deterministic). */
    Set<Long> heldReadies() {
        return new TreeSet<>(outstanding.keySet());
    }

    /** Processes one Ready of {@code id} per the contract; false if there was none. */
    boolean processReady(long id) {
        RaftNode n = node(id);
        if (!n.hasReady()) {
            return false;
        }
        handle(id, n.ready());
        return true;
    }

    private void handle(long id, Ready rd) {
        RaftNode n = node(id);
        readies.get(id).add(rd);
        MemoryStorage st = storages.get(id);
        // 1. persist: snapshot, then entries, then hard state
        if (rd.snapshot() != null) {
            st.applySnapshot(rd.snapshot());
        }
        st.append(rd.entries());
        if (rd.hardState() != null) {
            st.setHardState(rd.hardState());
        }
        // 2. send
        for (Message m : rd.messages()) {
            if (m.from() != id) {
                throw new AssertionError("node " + id + " sent a message from " + m.from() + ": " + m);
            }
            queue.add(m);
            sent.add(m);
        }
        // 3. apply snapshot, then committed entries
        List<Entry> log = applied.get(id);
        if (rd.snapshot() != null) {
            appliedSnapshots.get(id).add(rd.snapshot());
        }
        long last = lastApplied(id);
        if (rd.snapshot() != null) {
            last = rd.snapshot().metadata().index();
        }
        for (Entry e : rd.committedEntries()) {
            if (e.index() != last + 1) {
                throw new AssertionError("node " + id + " applies " + e.index() + " after " + last);
            }
            if (e.index() > n.commitIndex()) {
                throw new AssertionError("node " + id + " applies " + e.index() + " beyond commit " + n.commitIndex());
            }
            Entry stored = st.entries(e.index(), e.index() + 1, Long.MAX_VALUE).get(0);
            if (!stored.equals(e)) {
                throw new AssertionError("node " + id + " applies " + e + " but persisted " + stored);
            }
            Entry prior = committedByIndex.putIfAbsent(e.index(), e);
            if (prior != null && !prior.equals(e)) {
                throw new AssertionError("state machine safety: index " + e.index() + " applied as " + prior
                        + " elsewhere and as " + e + " on node " + id);
            }
            log.add(e);
            last = e.index();
        }
        lastApplied.put(id, last);
        readStates.get(id).addAll(rd.readStates());
        n.advance(rd);
        checkElectionSafety();
    }

    /**
     * Election safety (Raft §5.2): one leader per term. Leader completeness (§5.4): a node that
     * has just become leader holds every entry applied anywhere so far (above its snapshot).
     */
    private void checkElectionSafety() {
        for (RaftNode n : nodes.values()) {
            if (n.role() != Role.LEADER) {
                continue;
            }
            Long prior = leaderByTerm.putIfAbsent(n.term(), n.id());
            if (prior != null && prior != n.id()) {
                throw new AssertionError("election safety: nodes " + prior + " and " + n.id()
                        + " both led term " + n.term());
            }
            if (prior == null) {
                long first = storages.get(n.id()).firstIndex();
                for (Map.Entry<Long, Entry> c : committedByIndex.entrySet()) {
                    if (c.getKey() >= first && n.termAt(c.getKey()) != c.getValue().term()) {
                        throw new AssertionError("leader completeness: leader " + n.id() + " of term " + n.term()
                                + " lacks committed entry " + c.getValue());
                    }
                }
            }
        }
    }

    private long lastApplied(long id) {
        return lastApplied.get(id);
    }

    // ---------------------------------------------------------------- time

    /** One tick on {@code id}, then Ready processing (no delivery). */
    void tick(long id) {
        node(id).tick();
        processReadies();
    }

    /** One tick on every node, then delivery until quiescent. */
    void tickAll() {
        for (RaftNode n : nodes.values()) {
            n.tick();
        }
        stabilize();
    }

    /** {@code n} rounds of {@link #tickAll()}. */
    void tickAll(int n) {
        for (int i = 0; i < n; i++) {
            tickAll();
        }
    }

    // ---------------------------------------------------------------- network

    /** Cuts both directions between {@code a} and {@code b}. */
    void cut(long a, long b) {
        cut.add(List.of(a, b));
        cut.add(List.of(b, a));
    }

    /** Cuts only messages from {@code from} to {@code to}. */
    void cutOneWay(long from, long to) {
        cut.add(List.of(from, to));
    }

    /** Cuts every link of {@code id}. */
    void isolate(long id) {
        for (long other : nodes.keySet()) {
            if (other != id) {
                cut(id, other);
            }
        }
    }

    /** Restores every link and lifts every hold. */
    void heal() {
        cut.clear();
        holds.clear();
    }

    /** Keeps messages matching {@code p} queued until {@link #releaseHolds()}. */
    void hold(Predicate<Message> p) {
        holds.add(p);
    }

    void releaseHolds() {
        holds.clear();
    }

    /** Messages waiting in the network, oldest first. */
    List<Message> pending() {
        return List.copyOf(queue);
    }

    /** Queued messages of a given kind. */
    <T extends Message> List<T> pending(Class<T> kind) {
        return queue.stream().filter(kind::isInstance).map(kind::cast).toList();
    }

    /** Every message ever produced, in order. */
    List<Message> sent() {
        return sent;
    }

    /** Messages ever produced of a given kind. */
    <T extends Message> List<T> sent(Class<T> kind) {
        return sent.stream().filter(kind::isInstance).map(kind::cast).toList();
    }

    /** Every message ever stepped into a node, in order. */
    List<Message> delivered() {
        return delivered;
    }

    /** Forgets the message history (not the queue). */
    void clearHistory() {
        sent.clear();
        delivered.clear();
    }

    /** Discards every queued message (a network that lost everything in flight). */
    void dropPending() {
        for (Message m : queue) {
            reportIfSnapshot(m, false);
        }
        queue.clear();
    }

    private boolean held(Message m) {
        for (Predicate<Message> p : holds) {
            if (p.test(m)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Delivers the oldest queued message that matches {@code which} and is not held (dropping it
     * if its link is cut), then processes Readies. Returns it, or null if none matched.
     */
    Message deliverOne(Predicate<Message> which) {
        for (Iterator<Message> it = queue.iterator(); it.hasNext(); ) {
            Message m = it.next();
            if (held(m) || !which.test(m)) {
                continue;
            }
            it.remove();
            if (cut.contains(List.of(m.from(), m.to())) || !nodes.containsKey(m.to())) {
                reportIfSnapshot(m, false);
            } else {
                delivered.add(m);
                node(m.to()).step(m);
                reportIfSnapshot(m, true);
            }
            processReadies();
            return m;
        }
        return null;
    }

    /** Delivers the oldest deliverable message; null if none. */
    Message deliverOne() {
        return deliverOne(m -> true);
    }

    private void reportIfSnapshot(Message m, boolean ok) {
        if (m instanceof Message.InstallSnapshot && nodes.containsKey(m.from())) {
            snapshotReports.add(m.to() + (ok ? ":ok" : ":failed"));
            node(m.from()).reportSnapshot(m.to(), ok);
            processReadies();
        }
    }

    /** "peer:ok" / "peer:failed" for every reportSnapshot call the transport made, in order. */
    List<String> snapshotReports() {
        return snapshotReports;
    }

    /** Processes Readies and delivers messages until nothing is left to do (held messages and Readies stay). */
    void stabilize() {
        processReadies();
        int guard = 0;
        while (deliverOne() != null) {
            if (++guard > 1_000_000) {
                throw new AssertionError("cluster did not quiesce");
            }
        }
    }

    // ---------------------------------------------------------------- convenience

    /**
     * Makes {@code id} campaign and runs the cluster until quiescent; asserts it became leader.
     * Other nodes must be out of their leader lease (or check-quorum off) for this to work.
     */
    RaftNode elect(long id) {
        node(id).campaign();
        stabilize();
        RaftNode n = node(id);
        if (n.role() != Role.LEADER) {
            throw new AssertionError("node " + id + " did not become leader: " + n);
        }
        return n;
    }

    /** The single leader among the nodes with the highest term, or null. */
    RaftNode leader() {
        RaftNode best = null;
        for (RaftNode n : nodes.values()) {
            if (n.role() == Role.LEADER && (best == null || n.term() > best.term())) {
                best = n;
            }
        }
        return best;
    }

    /** Proposes {@code data} on {@code id} and runs until quiescent. */
    void propose(long id, String data) {
        node(id).propose(data.getBytes());
        stabilize();
    }

    /** Entries applied by {@code id}, in order (excluding those covered by a snapshot). */
    List<Entry> applied(long id) {
        return applied.get(id);
    }

    /** Payloads of the non-empty normal entries applied by {@code id}. */
    List<String> appliedData(long id) {
        List<String> out = new ArrayList<>();
        for (Entry e : applied.get(id)) {
            if (e.type() == EntryType.NORMAL && e.data().length > 0) {
                out.add(new String(e.data()));
            }
        }
        return out;
    }

    /** Snapshots applied by {@code id}. */
    List<Snapshot> appliedSnapshots(long id) {
        return appliedSnapshots.get(id);
    }

    /** Read states released to {@code id}'s application. */
    List<ReadState> readStates(long id) {
        return readStates.get(id);
    }

    /** Every Ready {@code id} produced, in order. */
    List<Ready> readies(long id) {
        return readies.get(id);
    }

    /**
     * What an application does to compact: snapshot its state at {@code index} (already applied)
     * and discard the log up to it.
     */
    Snapshot compact(long id, long index) {
        RaftNode n = node(id);
        if (n.appliedIndex() < index) {
            throw new IllegalArgumentException("node " + id + " applied only " + n.appliedIndex());
        }
        MemoryStorage st = storages.get(id);
        Snapshot s = st.createSnapshot(index, n.confStateAt(index), ("state@" + index).getBytes());
        st.compact(index);
        return s;
    }

    /** The node's persisted log (call after Readies were processed). */
    List<Entry> logOf(long id) {
        MemoryStorage st = storages.get(id);
        if (st.lastIndex() < st.firstIndex()) {
            return List.of();
        }
        return st.entries(st.firstIndex(), st.lastIndex() + 1, Long.MAX_VALUE);
    }
}

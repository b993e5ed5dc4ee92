package io.raftkv.raft.sim;

import io.raftkv.lincheck.CheckResult;
import io.raftkv.lincheck.LinearizabilityChecker;
import io.raftkv.lincheck.Operation;
import io.raftkv.raft.ConfChange;
import io.raftkv.raft.ConfState;
import io.raftkv.raft.Config;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import io.raftkv.raft.MemoryStorage;
import io.raftkv.raft.Message;
import io.raftkv.raft.ProposalDroppedException;
import io.raftkv.raft.RaftNode;
import io.raftkv.raft.ReadState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;
import io.raftkv.raft.Snapshot;
import io.raftkv.raft.Storage;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A whole Raft cluster in one thread, driven by one seed: network (delay, drop, duplicate,
 * reorder, symmetric and asymmetric partitions, leader isolation, swizzle), node crashes that lose
 * everything not persisted per the Ready contract, per-node tick skew, clients doing put/get/CAS
 * through proposals and ReadIndex, membership changes and leadership transfers, and snapshots
 * with log compaction.
 *
 * <p>Checkers run after every Ready: at most one leader per term, log matching (every
 * (index, term) names one entry with one predecessor term), leader completeness, state machine
 * safety (one entry per committed index on every node), commit index never decreasing on a live
 * node, applied never above commit. At the end: the client history is linearizable and, after
 * all faults heal, a leader emerges and a new proposal commits on every member within a bound.
 *
 * <p>Time is in units; a node ticks every 8 to 12 units (its own skew), messages take 1 unit or
 * more. Nothing here reads a clock.
 */
public final class Simulation {

    /** Creates the Raft node for a (re)started member; tests pass broken variants here. */
    @FunctionalInterface
    public interface NodeFactory {
        RaftNode create(Config config, Storage storage, long applied);
    }

    /** What to simulate. */
    public record Options(int nodes, long seed, int durationUnits, NodeFactory factory, boolean persistVotes,
                          boolean membershipChanges, boolean leaderChurn, boolean trace) {
        /** The standard run: crashes, partitions, membership changes; correct driver. */
        public static Options standard(int nodes, long seed) {
            return new Options(nodes, seed, 3000, RaftNode::new, true, true, false, false);
        }

        public Options withFactory(NodeFactory f) {
            return new Options(nodes, seed, durationUnits, f, persistVotes, membershipChanges, leaderChurn, trace);
        }

        public Options withPersistVotes(boolean p) {
            return new Options(nodes, seed, durationUnits, factory, p, membershipChanges, leaderChurn, trace);
        }

        /**
         * Leader churn: leaders often crash right after winning or right after their commit index
         * moves, and every AppendEntries carries one entry. This is the schedule that builds the
         * Figure 8 situation of the Raft paper (an old-term entry on a majority, its leader gone).
         */
        public Options withLeaderChurn() {
            return new Options(nodes, seed, durationUnits, factory, persistVotes, membershipChanges, true, trace);
        }

        public Options withTrace(boolean t) {
            return new Options(nodes, seed, durationUnits, factory, persistVotes, membershipChanges, leaderChurn, t);
        }

        public Options withDuration(int units) {
            return new Options(nodes, seed, units, factory, persistVotes, membershipChanges, leaderChurn, trace);
        }
    }

    /** The verdict of one run. {@code failure} is null when every check passed. */
    public record Outcome(long seed, int nodes, String failure, int operations, int completedOperations,
                          int leaderTerms, int crashes, int confChanges, int snapshotsSent, List<String> trace) {
        public boolean ok() {
            return failure == null;
        }
    }

    /** Thrown by a checker; carries a description of the violated property. */
    static final class Violation extends RuntimeException {
        Violation(String what) {
            super(what, null, false, false);
        }
    }

    // ------------------------------------------------------------------ state

    private final Options opt;
    private final SplittableRandom rnd;
    private final Map<Long, SimNode> nodes = new TreeMap<>();
    private final PriorityQueue<InFlight> network = new PriorityQueue<>();
    private final Set<Long> blocked = new HashSet<>(); // directed links from*1000+to
    private final List<String> trace = new ArrayList<>();
    private final List<Client> clients = new ArrayList<>();
    private final List<Operation> history = new ArrayList<>();

    private long now;
    private long clock; // logical timestamps for the history: strictly increasing
    private long msgSeq;
    private long nextOpId = 1;
    private long nextNodeId;
    private double dropRate;
    private double dupRate = 0.01;
    private int maxDelay = 4;

    // checker state
    private final Map<Long, Long> leaderOfTerm = new HashMap<>();
    private final Map<Long, Long> entryFingerprint = new HashMap<>(); // key (index,term) -> fingerprint
    private final Map<Long, Long> committedTerm = new HashMap<>();    // index -> term of the committed entry
    private final Map<Long, byte[]> appliedData = new HashMap<>();   // index -> data applied there
    private long maxCommitted;

    // per-run profile, drawn from the seed: etcd lets operators turn both options off
    private boolean preVote;
    private boolean checkQuorum;
    /** Probability that a node crashes right after granting a vote (restarting soon after). */
    private double crashAfterVote;
    /** Probability that a new leader crashes within a few units of winning. */
    private double crashNewLeader;
    /** Probability that a leader crashes right after its commit index advances. */
    private double crashAfterCommit;
    private final PriorityQueue<long[]> scheduled = new PriorityQueue<>((a, b) -> Long.compare(a[0], b[0]));

    private boolean traceMessages;

    private int crashes;
    private int confChanges;
    private int snapshotsSent;

    private Simulation(Options opt) {
        this.opt = opt;
        this.rnd = new SplittableRandom(opt.seed());
    }

    /** Runs one simulation and returns its verdict; never throws for protocol failures. */
    public static Outcome run(Options opt) {
        Simulation s = new Simulation(opt);
        String failure = null;
        try {
            s.execute();
        } catch (Violation v) {
            failure = "t=" + s.now + ": " + v.getMessage();
        } catch (RuntimeException e) {
            failure = "t=" + s.now + ": exception " + e + " at " + java.util.Arrays.toString(java.util.Arrays.copyOf(e.getStackTrace(), 6));
            if (opt.trace()) {
                e.printStackTrace();
            }
        }
        int completed = (int) s.history.stream().filter(o -> !o.indeterminate()).count();
        return new Outcome(opt.seed(), opt.nodes(), failure, s.history.size(), completed, s.leaderOfTerm.size(),
                s.crashes, s.confChanges, s.snapshotsSent, s.trace);
    }

    // ------------------------------------------------------------------ nodes

    private final class SimNode {
        final long id;
        final int tickInterval;
        final int tickPhase;
        final Config config;
        MemoryStorage storage;
        RaftNode raft;
        KvMachine machine;
        long lastCommit;
        long lastRecordedCommit;
        boolean removed;
        final Map<Long, Client> pendingWrites = new HashMap<>();
        final Map<Long, Client> pendingReads = new HashMap<>();
        final List<ReadState> readPoints = new ArrayList<>();
        final int snapshotEvery;

        SimNode(long id, MemoryStorage storage) {
            this.id = id;
            this.storage = storage;
            this.tickInterval = 8 + rnd.nextInt(5);
            this.tickPhase = rnd.nextInt(tickInterval);
            this.snapshotEvery = 8 + rnd.nextInt(40);
            long maxMsg = opt.leaderChurn() ? 1 : rnd.nextBoolean() ? 1 << 20 : 1 + rnd.nextInt(200);
            int inflight = 1 + rnd.nextInt(8);
            this.config = new Config(id, 3, 2, maxMsg, inflight, 1 << 20, preVote, checkQuorum,
                    new SplittableRandom(rnd.nextLong()));
        }

        boolean up() {
            return raft != null;
        }

        void start() {
            Snapshot snap = storage.snapshot();
            machine = KvMachine.restore(snap.data());
            long applied = snap.metadata().index();
            raft = opt.factory().create(new Config(config.id(), config.electionTicks(), config.heartbeatTicks(),
                    config.maxSizePerMsgBytes(), config.maxInflightMsgs(), config.maxApplyBytes(), config.preVote(),
                    config.checkQuorum(), new SplittableRandom(rnd.nextLong())), storage, applied);
            machine.applied = applied;
            lastCommit = raft.commitIndex();
            lastRecordedCommit = Math.max(lastRecordedCommit, applied);
        }

        void crash() {
            raft = null;
            machine = null;
            pendingWrites.clear();
            pendingReads.clear();
            readPoints.clear();
        }
    }

    private SimNode leader() {
        SimNode best = null;
        for (SimNode n : nodes.values()) {
            if (n.up() && n.raft.role() == Role.LEADER && (best == null || n.raft.term() > best.raft.term())) {
                best = n;
            }
        }
        return best;
    }

    private List<SimNode> upNodes() {
        List<SimNode> out = new ArrayList<>();
        for (SimNode n : nodes.values()) {
            if (n.up()) {
                out.add(n);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ main loop

    private void execute() {
        preVote = rnd.nextInt(4) != 0;
        checkQuorum = rnd.nextInt(4) != 0;
        crashAfterVote = rnd.nextInt(3) == 0 ? 0.2 : 0;
        crashNewLeader = rnd.nextInt(3) == 0 ? 0.2 : 0;
        crashAfterCommit = rnd.nextInt(3) == 0 ? 0.05 : 0;
        if (opt.leaderChurn()) {
            crashNewLeader = 0.4;
            crashAfterCommit = 0.3;
            dropRate = 0.1;
        }
        log("profile preVote=" + preVote + " checkQuorum=" + checkQuorum + " crashAfterVote=" + crashAfterVote
                + " crashNewLeader=" + crashNewLeader + " crashAfterCommit=" + crashAfterCommit);
        Set<Long> initial = new TreeSet<>();
        for (long i = 1; i <= opt.nodes(); i++) {
            initial.add(i);
        }
        nextNodeId = opt.nodes() + 1;
        for (long i : initial) {
            SimNode n = new SimNode(i, MemoryStorage.bootstrap(initial));
            nodes.put(i, n);
            n.start();
        }
        int nClients = 3 + rnd.nextInt(4);
        for (int c = 0; c < nClients; c++) {
            clients.add(new Client(c));
        }
        long end = opt.durationUnits();
        while (now < end) {
            step(true);
        }
        heal();
        checkLiveness();
        for (Client c : clients) {
            c.abandon();
        }
        CheckResult r = LinearizabilityChecker.check(history, Duration.ofSeconds(20));
        if (r.isIllegal()) {
            throw new Violation("history is not linearizable:\n" + r.describe());
        }
    }

    /** One unit of time: deliver due messages, tick nodes, run clients and maybe a fault. */
    private void step(boolean faults) {
        now++;
        while (!scheduled.isEmpty() && scheduled.peek()[0] <= now) {
            long[] ev = scheduled.poll();
            SimNode n = nodes.get(ev[1]);
            if (ev[2] == 0 && n.up()) {
                log("scheduled crash of node " + n.id);
                n.crash();
                crashes++;
            } else if (ev[2] == 1 && !n.up() && !n.removed) {
                log("scheduled restart of node " + n.id);
                n.start();
                process(n);
            }
        }
        while (!network.isEmpty() && network.peek().at <= now) {
            InFlight f = network.poll();
            SimNode to = nodes.get(f.msg.to());
            if (to == null || !to.up() || blocked.contains(link(f.msg.from(), f.msg.to()))) {
                continue;
            }
            if (traceMessages) {
                log("deliver " + f.msg);
            }
            to.raft.step(f.msg);
            process(to);
        }
        for (SimNode n : nodes.values()) {
            if (n.up() && now % n.tickInterval == n.tickPhase) {
                n.raft.tick();
                process(n);
            }
        }
        for (Client c : clients) {
            c.act();
        }
        if (faults && rnd.nextInt(60) == 0) {
            nemesis();
        }
    }

    private static long link(long from, long to) {
        return from * 1000 + to;
    }

    private void log(String s) {
        if (opt.trace()) {
            trace.add("t=" + now + " " + s);
        }
    }

    // ------------------------------------------------------------------ Ready processing

    private void process(SimNode n) {
        RaftNode raft = n.raft;
        while (raft.hasReady()) {
            Ready rd = raft.ready();
            if (rd.softState() != null && rd.softState().role() == Role.LEADER) {
                log("node " + n.id + " leads term " + raft.term());
                if (rnd.nextDouble() < crashNewLeader) {
                    scheduleCrashRestart(n.id, rnd.nextInt(12));
                }
            }
            if (rd.hardState() != null && raft.role() == Role.LEADER && rd.hardState().commit() > n.lastCommit
                    && rnd.nextDouble() < crashAfterCommit) {
                scheduleCrashRestart(n.id, 0);
            }
            // 1. persist
            if (rd.snapshot() != null) {
                n.storage.applySnapshot(rd.snapshot());
            }
            if (!rd.entries().isEmpty()) {
                n.storage.append(rd.entries());
                checkLogMatching(n, rd.entries());
            }
            if (rd.hardState() != null) {
                HardState hs = rd.hardState();
                if (!opt.persistVotes()) {
                    // broken driver (tests only): the vote never reaches the disk
                    hs = new HardState(hs.term(), RaftNode.NONE, hs.commit());
                }
                n.storage.setHardState(hs);
            }
            // 2. send
            boolean granted = false;
            for (Message m : rd.messages()) {
                send(n, m);
                granted |= m instanceof Message.VoteResponse v && !v.reject() && !v.preVote();
            }
            if (granted && rnd.nextDouble() < crashAfterVote) {
                scheduleCrashRestart(n.id, 0);
            }
            // 3. apply
            if (rd.snapshot() != null) {
                n.machine = KvMachine.restore(rd.snapshot().data());
                n.machine.applied = rd.snapshot().metadata().index();
                n.lastRecordedCommit = Math.max(n.lastRecordedCommit, n.machine.applied);
            }
            for (Entry e : rd.committedEntries()) {
                apply(n, e);
            }
            n.readPoints.addAll(rd.readStates());
            raft.advance(rd);
            serveReads(n);
            maybeSnapshot(n);
            checkNode(n);
        }
        checkNode(n);
    }

    /** Crashes a node {@code after} units from now (0: before its next input) and restarts it soon after. */
    private void scheduleCrashRestart(long id, int after) {
        scheduled.add(new long[] {now + after, id, 0});
        scheduled.add(new long[] {now + after + 1 + (rnd.nextBoolean() ? 0 : rnd.nextInt(30)), id, 1});
    }

    private void send(SimNode from, Message m) {
        if (m instanceof Message.InstallSnapshot) {
            snapshotsSent++;
        }
        if (rnd.nextDouble() < dropRate) {
            if (m instanceof Message.InstallSnapshot) {
                from.raft.reportSnapshot(m.to(), false);
            }
            return;
        }
        int copies = rnd.nextDouble() < dupRate ? 2 : 1;
        for (int i = 0; i < copies; i++) {
            network.add(new InFlight(now + 1 + rnd.nextInt(maxDelay), msgSeq++, m));
        }
        if (m instanceof Message.InstallSnapshot) {
            from.raft.reportSnapshot(m.to(), true);
        }
    }

    private record InFlight(long at, long seq, Message msg) implements Comparable<InFlight> {
        @Override
        public int compareTo(InFlight o) {
            return at != o.at ? Long.compare(at, o.at) : Long.compare(seq, o.seq);
        }
    }

    private void apply(SimNode n, Entry e) {
        if (e.index() != n.machine.applied + 1) {
            throw new Violation("node " + n.id + " applies index " + e.index() + " after " + n.machine.applied);
        }
        byte[] prev = appliedData.putIfAbsent(e.index(), e.data());
        if (prev != null && !Arrays.equals(prev, e.data())) {
            throw new Violation("state machine safety: node " + n.id + " applies a different entry at index " + e.index());
        }
        n.machine.applied = e.index();
        if (e.type() != EntryType.NORMAL || e.data().length == 0) {
            return;
        }
        Command c = Command.decode(e.data());
        boolean ok = n.machine.apply(c);
        Client waiting = n.pendingWrites.remove(c.opId);
        if (waiting != null) {
            waiting.completeWrite(c.opId, ok);
        }
    }

    private void serveReads(SimNode n) {
        for (Iterator<ReadState> it = n.readPoints.iterator(); it.hasNext(); ) {
            ReadState rs = it.next();
            if (n.machine.applied >= rs.index()) {
                it.remove();
                long op = Long.parseLong(new String(rs.context(), StandardCharsets.UTF_8).substring(5));
                Client c = n.pendingReads.remove(op);
                if (c != null) {
                    c.completeRead(op, n.machine);
                }
            }
        }
    }

    private void maybeSnapshot(SimNode n) {
        long applied = n.machine.applied;
        MemoryStorage st = n.storage;
        if (applied - st.snapshot().metadata().index() < n.snapshotEvery || applied > st.lastIndex()) {
            return;
        }
        st.createSnapshot(applied, n.raft.confStateAt(applied), n.machine.encode());
        long keep = rnd.nextInt(4);
        if (applied - keep > st.firstIndex()) {
            st.compact(applied - keep);
        }
    }

    // ------------------------------------------------------------------ checkers

    private void checkNode(SimNode n) {
        RaftNode r = n.raft;
        if (r.role() == Role.LEADER) {
            Long prev = leaderOfTerm.putIfAbsent(r.term(), n.id);
            if (prev == null) {
                checkLeaderCompleteness(n);
            } else if (prev != n.id) {
                throw new Violation("election safety: nodes " + prev + " and " + n.id + " both lead term " + r.term());
            }
        }
        long commit = r.commitIndex();
        if (commit < n.lastCommit) {
            throw new Violation("node " + n.id + " commit index went back from " + n.lastCommit + " to " + commit);
        }
        n.lastCommit = commit;
        if (n.machine.applied > commit) {
            throw new Violation("node " + n.id + " applied " + n.machine.applied + " beyond commit " + commit);
        }
        for (long i = n.lastRecordedCommit + 1; i <= commit; i++) {
            long t = r.termAt(i);
            if (t == 0) {
                continue; // compacted into a snapshot here
            }
            Long known = committedTerm.putIfAbsent(i, t);
            if (known != null && known != t) {
                throw new Violation("node " + n.id + " committed term " + t + " at index " + i + " but term "
                        + known + " was committed there before");
            }
            maxCommitted = Math.max(maxCommitted, i);
        }
        n.lastRecordedCommit = Math.max(n.lastRecordedCommit, commit);
    }

    private void checkLogMatching(SimNode n, List<Entry> ents) {
        for (Entry e : ents) {
            long prevTerm;
            try {
                prevTerm = n.storage.term(e.index() - 1);
            } catch (Storage.CompactedException c) {
                continue;
            }
            long fp = (Arrays.hashCode(e.data()) * 31L + e.type().ordinal()) * 1_000_003L + prevTerm;
            Long known = entryFingerprint.putIfAbsent(e.index() * 1_000_000L + e.term(), fp);
            if (known != null && known != fp) {
                throw new Violation("log matching: node " + n.id + " holds a different entry (or predecessor) at index "
                        + e.index() + " term " + e.term());
            }
        }
    }

    private void checkLeaderCompleteness(SimNode n) {
        RaftNode r = n.raft;
        for (long i = Math.max(1, n.storage.firstIndex()); i <= maxCommitted; i++) {
            Long t = committedTerm.get(i);
            if (t == null || t >= r.term()) {
                continue;
            }
            long mine = r.termAt(i);
            if (mine != t) {
                throw new Violation("leader completeness: leader " + n.id + " of term " + r.term()
                        + " lacks committed entry " + i + " of term " + t + " (has term " + mine + ")");
            }
        }
    }

    // ------------------------------------------------------------------ faults

    private void nemesis() {
        List<SimNode> up = upNodes();
        int choice = rnd.nextInt(100);
        if (choice < 18) {
            if (!up.isEmpty()) {
                SimNode victim = up.get(rnd.nextInt(up.size()));
                log("crash node " + victim.id);
                victim.crash();
                crashes++;
            }
        } else if (choice < 36) {
            for (SimNode n : nodes.values()) {
                if (!n.up() && !n.removed) {
                    log("restart node " + n.id);
                    n.start();
                    process(n);
                    break;
                }
            }
        } else if (choice < 44) {
            partitionHalves();
        } else if (choice < 50) {
            SimNode l = leader();
            if (l != null) {
                log("isolate leader " + l.id);
                for (long other : nodes.keySet()) {
                    if (other != l.id) {
                        blocked.add(link(l.id, other));
                        blocked.add(link(other, l.id));
                    }
                }
            }
        } else if (choice < 55) {
            List<Long> ids = new ArrayList<>(nodes.keySet());
            long a = ids.get(rnd.nextInt(ids.size()));
            long b = ids.get(rnd.nextInt(ids.size()));
            if (a != b) {
                log("cut link " + a + "->" + b + " (one way)");
                blocked.add(link(a, b));
            }
        } else if (choice < 62) {
            swizzle();
        } else if (choice < 72) {
            log("heal network");
            blocked.clear();
        } else if (choice < 78) {
            double[] rates = {0, 0, 0.02, 0.1, 0.3};
            dropRate = rates[rnd.nextInt(rates.length)];
            dupRate = rnd.nextInt(4) == 0 ? 0.05 : 0.01;
            maxDelay = rnd.nextInt(4) == 0 ? 25 : 4;
            log("network drop=" + dropRate + " dup=" + dupRate + " maxDelay=" + maxDelay);
        } else if (choice < 88) {
            if (opt.membershipChanges()) {
                changeMembership();
            }
        } else {
            SimNode l = leader();
            if (l != null) {
                List<Long> voters = new ArrayList<>(new TreeSet<>(l.raft.confState().voters()));
                long target = voters.get(rnd.nextInt(voters.size()));
                log("transfer leadership " + l.id + " -> " + target);
                l.raft.transferLeadership(target);
                process(l);
            }
        }
    }

    private void partitionHalves() {
        List<Long> ids = new ArrayList<>(nodes.keySet());
        Set<Long> side = new HashSet<>();
        for (long id : ids) {
            if (rnd.nextBoolean()) {
                side.add(id);
            }
        }
        log("partition " + side + " | rest");
        for (long a : ids) {
            for (long b : ids) {
                if (side.contains(a) != side.contains(b)) {
                    blocked.add(link(a, b));
                }
            }
        }
    }

    /** Swizzle: cut links one by one over time, then heal them in random order. */
    private void swizzle() {
        List<Long> ids = new ArrayList<>(nodes.keySet());
        List<Long> links = new ArrayList<>();
        for (long a : ids) {
            for (long b : ids) {
                if (a != b && rnd.nextInt(3) == 0) {
                    links.add(link(a, b));
                }
            }
        }
        log("swizzle " + links.size() + " links");
        for (long l : links) {
            blocked.add(l);
            runQuietly(1 + rnd.nextInt(15));
        }
        while (!links.isEmpty()) {
            blocked.remove(links.remove(rnd.nextInt(links.size())));
            runQuietly(1 + rnd.nextInt(15));
        }
    }

    private void runQuietly(int units) {
        for (int i = 0; i < units; i++) {
            step(false);
        }
    }

    private void changeMembership() {
        SimNode l = leader();
        if (l == null || l.raft.confChangeInFlight()) {
            return;
        }
        ConfState cs = l.raft.confState();
        List<Long> voters = new ArrayList<>(new TreeSet<>(cs.voters()));
        List<Long> learners = new ArrayList<>(new TreeSet<>(cs.learners()));
        int kind = rnd.nextInt(4);
        ConfChange cc;
        List<Long> fresh = new ArrayList<>();
        if (kind == 0 && learners.size() < 2) {
            long id = nextNodeId++;
            fresh.add(id);
            cc = ConfChange.of(new ConfChange.Change(ConfChange.Type.ADD_LEARNER, id));
        } else if (kind == 1 && !learners.isEmpty()) {
            long id = learners.get(rnd.nextInt(learners.size()));
            if (l.raft.progress().get(id) == null || l.raft.progress().get(id).match() + 5 < l.raft.lastIndex()) {
                return; // promote only a caught-up learner
            }
            cc = ConfChange.of(new ConfChange.Change(ConfChange.Type.ADD_VOTER, id));
        } else if (kind == 2 && voters.size() > 3) {
            long id = voters.get(rnd.nextInt(voters.size()));
            cc = ConfChange.of(new ConfChange.Change(ConfChange.Type.REMOVE, id));
        } else if (kind == 3 && voters.size() >= 3) {
            // replace two voters at once, in one joint change
            List<Long> pick = new ArrayList<>(voters);
            long a = pick.remove(rnd.nextInt(pick.size()));
            long b = pick.remove(rnd.nextInt(pick.size()));
            long c = nextNodeId++;
            long d = nextNodeId++;
            fresh.add(c);
            fresh.add(d);
            cc = ConfChange.of(new ConfChange.Change(ConfChange.Type.REMOVE, a),
                    new ConfChange.Change(ConfChange.Type.REMOVE, b),
                    new ConfChange.Change(ConfChange.Type.ADD_VOTER, c),
                    new ConfChange.Change(ConfChange.Type.ADD_VOTER, d));
        } else {
            return;
        }
        try {
            l.raft.proposeConfChange(cc);
        } catch (ProposalDroppedException e) {
            return;
        }
        confChanges++;
        log("conf change " + cc.changes() + " at leader " + l.id);
        for (long id : fresh) {
            SimNode n = new SimNode(id, new MemoryStorage());
            nodes.put(id, n);
            n.start();
        }
        process(l);
    }

    private void heal() {
        log("heal everything");
        traceMessages = opt.trace() && Boolean.getBoolean("sim.traceMessages");
        crashAfterVote = 0;
        crashNewLeader = 0;
        crashAfterCommit = 0;
        blocked.clear();
        dropRate = 0;
        dupRate = 0;
        maxDelay = 4;
        runQuietly(50);
        // Nodes outside the configuration (removed, or added by a change that never committed)
        // are stopped; members are restarted.
        SimNode l = leader();
        for (SimNode n : nodes.values()) {
            if (!n.up() && !n.removed) {
                n.start();
                process(n);
            }
        }
        runQuietly(50);
        l = leader();
        if (l != null && !l.raft.confChangeInFlight()) {
            markRemoved(l.raft.confState());
        }
    }

    private void markRemoved(ConfState cs) {
        Set<Long> members = new HashSet<>(cs.voters());
        members.addAll(cs.votersOutgoing());
        members.addAll(cs.learners());
        members.addAll(cs.learnersNext());
        for (SimNode n : nodes.values()) {
            if (!members.contains(n.id)) {
                n.removed = true;
                if (n.up()) {
                    n.crash();
                }
            }
        }
    }

    /**
     * After healing: a leader within a bound, and a new proposal applied by every member. The
     * marker is proposed again (as a new operation) if a leader change lost it.
     */
    private void checkLiveness() {
        final int boundUnits = 3000;
        long deadline = now + boundUnits;
        SimNode l = null;
        List<byte[]> markers = new ArrayList<>();
        long lastProposal = -1_000_000;
        while (now < deadline) {
            runQuietly(10);
            l = leader();
            if (l == null) {
                continue;
            }
            if (!l.raft.confChangeInFlight()) {
                markRemoved(l.raft.confState());
            }
            if (!l.up()) {
                continue;
            }
            if (now - lastProposal >= 300) {
                byte[] marker = new Command(nextOpId++, 'P', "liveness", "done", null).encode();
                try {
                    l.raft.propose(marker);
                    markers.add(marker);
                    lastProposal = now;
                    process(l);
                } catch (ProposalDroppedException e) {
                    continue;
                }
            }
            if (allMembersApplied(l, markers)) {
                return;
            }
        }
        StringBuilder sb = new StringBuilder();
        for (SimNode n : nodes.values()) {
            sb.append("\n  node ").append(n.id).append(n.removed ? " removed" : "").append(n.up() ? " " + n.raft
                    + " conf=" + n.raft.confState() + " applied=" + n.machine.applied : " down");
            if (l != null && l.up() && l.raft.progress().get(n.id) != null) {
                sb.append(" progress=").append(l.raft.progress().get(n.id));
            }
        }
        throw new Violation("liveness: no leader or no marker proposal applied by every member within "
                + boundUnits + " units after healing (leader " + (l == null ? "none" : l.id) + ")" + sb);
    }

    private boolean allMembersApplied(SimNode l, List<byte[]> markers) {
        long markerIndex = Long.MAX_VALUE;
        for (Map.Entry<Long, byte[]> e : appliedData.entrySet()) {
            for (byte[] m : markers) {
                if (Arrays.equals(e.getValue(), m)) {
                    markerIndex = Math.min(markerIndex, e.getKey());
                }
            }
        }
        if (markerIndex == Long.MAX_VALUE) {
            return false;
        }
        ConfState cs = l.raft.confState();
        Set<Long> members = new HashSet<>(cs.voters());
        members.addAll(cs.learners());
        for (long m : members) {
            SimNode n = nodes.get(m);
            if (n == null || !n.up() || n.machine.applied < markerIndex) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ clients

    /** One client: one operation at a time, with a timeout. */
    private final class Client {
        final int id;
        long opId;
        char kind;
        String key;
        String value;
        String expected;
        long call;
        long deadline;
        boolean busy;
        long idleUntil;

        Client(int id) {
            this.id = id;
        }

        void act() {
            if (busy && now >= deadline) {
                timeOut();
            }
            if (!busy && now >= idleUntil) {
                start();
            }
        }

        void start() {
            List<SimNode> up = upNodes();
            if (up.isEmpty()) {
                return;
            }
            SimNode target = up.get(rnd.nextInt(up.size()));
            opId = nextOpId++;
            key = "k" + rnd.nextInt(3);
            int r = rnd.nextInt(10);
            kind = r < 4 ? 'G' : r < 7 ? 'P' : 'C';
            value = "v" + opId;
            expected = rnd.nextInt(4) == 0 ? null : "v" + Math.max(1, opId - 1 - rnd.nextInt(6));
            call = ++clock;
            deadline = now + 150;
            try {
                if (kind == 'G') {
                    String ctx = "read-" + opId;
                    target.pendingReads.put(opId, this);
                    target.raft.readIndex(ctx.getBytes(StandardCharsets.UTF_8));
                } else {
                    target.pendingWrites.put(opId, this);
                    target.raft.propose(new Command(opId, kind, key, value, expected).encode());
                }
            } catch (ProposalDroppedException e) {
                target.pendingReads.remove(opId);
                target.pendingWrites.remove(opId);
                idleUntil = now + 5;
                return; // definitely not applied: not part of the history
            }
            busy = true;
            process(target);
        }

        void completeWrite(long op, boolean ok) {
            if (!busy || op != opId) {
                return;
            }
            long ret = ++clock;
            history.add(kind == 'P' ? Operation.put(id, key, value, call, ret)
                    : Operation.cas(id, key, expected, value, ok, call, ret));
            done();
        }

        void completeRead(long op, KvMachine m) {
            if (!busy || kind != 'G' || op != opId) {
                return;
            }
            history.add(Operation.get(id, key, m.kv.get(key), call, ++clock));
            done();
        }

        void timeOut() {
            if (kind == 'P') {
                history.add(Operation.put(id, key, value, call, Operation.INDETERMINATE));
            } else if (kind == 'C') {
                history.add(Operation.cas(id, key, expected, value, false, call, Operation.INDETERMINATE));
            }
            done();
        }

        void abandon() {
            if (busy) {
                timeOut();
            }
        }

        private void done() {
            busy = false;
            idleUntil = now + rnd.nextInt(20);
        }
    }

    /** A client command as stored in a log entry. */
    record Command(long opId, char kind, String key, String value, String expected) {
        byte[] encode() {
            return (opId + "|" + kind + "|" + key + "|" + value + "|" + (expected == null ? "" : expected))
                    .getBytes(StandardCharsets.UTF_8);
        }

        static Command decode(byte[] b) {
            String[] p = new String(b, StandardCharsets.UTF_8).split("\\|", -1);
            return new Command(Long.parseLong(p[0]), p[1].charAt(0), p[2], p[3], p[4].isEmpty() ? null : p[4]);
        }
    }

    /** The replicated state machine: a map with put and compare-and-set, deduplicating op ids. */
    static final class KvMachine {
        final TreeMap<String, String> kv = new TreeMap<>();
        final Set<Long> seen = new HashSet<>();
        long applied;

        boolean apply(Command c) {
            if (!seen.add(c.opId())) {
                return false; // a duplicated proposal: applied once only
            }
            if (c.kind() == 'P') {
                kv.put(c.key(), c.value());
                return true;
            }
            String cur = kv.get(c.key());
            if (c.expected() == null ? cur == null : c.expected().equals(cur)) {
                kv.put(c.key(), c.value());
                return true;
            }
            return false;
        }

        byte[] encode() {
            StringBuilder sb = new StringBuilder();
            for (Map.Entry<String, String> e : kv.entrySet()) {
                sb.append(e.getKey()).append('=').append(e.getValue()).append(';');
            }
            sb.append('#');
            for (long s : new TreeSet<>(seen)) {
                sb.append(s).append(',');
            }
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        }

        static KvMachine restore(byte[] data) {
            KvMachine m = new KvMachine();
            if (data.length == 0) {
                return m;
            }
            String s = new String(data, StandardCharsets.UTF_8);
            int hash = s.indexOf('#');
            for (String kv : s.substring(0, hash).split(";")) {
                if (!kv.isEmpty()) {
                    int eq = kv.indexOf('=');
                    m.kv.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
            for (String id : s.substring(hash + 1).split(",")) {
                if (!id.isEmpty()) {
                    m.seen.add(Long.parseLong(id));
                }
            }
            return m;
        }
    }
}

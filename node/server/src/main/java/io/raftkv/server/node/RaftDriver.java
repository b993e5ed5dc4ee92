package io.raftkv.server.node;

import io.raftkv.raft.ConfChange;
import io.raftkv.raft.Config;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.Message;
import io.raftkv.raft.ProposalDroppedException;
import io.raftkv.raft.RaftNode;
import io.raftkv.raft.ReadState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;
import io.raftkv.raft.Snapshot;
import io.raftkv.log.SegmentedWal;
import io.raftkv.server.api.EtcdErrors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one driver thread of a node: turns wall time into ticks and runs the Ready contract
 * (persist with one fsync, send, apply, advance) between the Raft core, the write-ahead log, the
 * state machine and the peer transport. Two refinements, both from the Raft thesis and etcd: a
 * Ready whose only durable change is the commit index is not fsynced (Ready.mustSync), and a
 * leader sends its appends before its own fsync (thesis §10.2.1).
 *
 * <p>Threads: every method that touches the {@link RaftNode} runs on the driver thread. Other
 * threads (gRPC handlers, the transport) only enqueue work with {@link #submit} or the
 * propose/read methods, which return futures completed on the driver thread. Concurrent
 * proposals and reads that arrive while the driver is busy are batched into one proposal and one
 * ReadIndex round, so that many clients share one fsync and one AppendEntries.
 */
public final class RaftDriver implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RaftDriver.class.getName());

    /** Applies committed entries to the state machine; called on the driver thread only. */
    public interface StateMachine {
        /**
         * Applies a normal entry at {@code index}; returns the result handed to the proposer's
         * future (or throws the exception to fail it with).
         */
        Object apply(long index, byte[] data);

        /** Applies a configuration entry at {@code index} (member table bookkeeping). */
        void applyConfChange(long index, ConfChange cc);

        /**
         * A configuration entry was made durable here but is not applied yet. It already governs
         * quorums (a configuration takes effect when appended, Raft thesis §4.1), so a voter it adds
         * may be needed to commit it: the peers it names must be reachable before it commits, not
         * only once it is applied. Called on the driver thread; the default does nothing.
         */
        default void confChangeAppended(ConfChange cc) {
        }

        /** Records {@code index} as applied for an entry with no effect (the leader's no-op). */
        void applyNoop(long index);

        /** The request id in a normal entry, to find the proposer's future; 0 if none. */
        long requestId(byte[] data);

        /** The request id carried in a configuration change's context; 0 if none. */
        long confRequestId(ConfChange cc);

        /** Builds the payload that a follower receiving a snapshot needs (members + store). */
        byte[] snapshotPayload();

        /**
         * Installs a snapshot payload received from the leader, durably, before the log records
         * the snapshot.
         */
        void installSnapshot(long index, byte[] payload);

        /** Small data recorded with local snapshots in the log (for example, the member table). */
        byte[] localSnapshotData();

        /**
         * Starts making every applied entry durable without waiting (the log may drop entries
         * only once {@link #durableIndex()} covers them).
         */
        void startSync();

        /** The highest applied index whose effects survive a crash now. */
        long durableIndex();
    }

    /** Hooks for metrics; called on the driver thread, must be cheap and must not throw. */
    public interface Observer {
        /** A Ready was made durable; {@code nanos} is the persist call (one fsync). */
        default void walSynced(long nanos) {
        }

        /** A Ready's committed entries were applied in {@code nanos}. */
        default void applied(long nanos, int entries) {
        }

        /** A proposal was refused (no leader, transfer in progress). */
        default void proposalFailed() {
        }
    }

    /**
     * Told when this member becomes leader or stops being leader; called on the driver thread,
     * before the committed entries of the same Ready are applied. Must be quick and must not throw.
     */
    public interface LeadershipListener {
        /** This member is now leader of {@code term} ({@code leader} true), or no longer leader. */
        void leadershipChanged(boolean leader, long term);

        /**
         * This member, still leader of {@code term}, has applied the first entry of its term: every
         * entry committed before it is applied too (after a restart, those may be many entries
         * replayed from the log). Called on the driver thread, once per term led.
         */
        default void leaderCaughtUp(long term) {
        }
    }

    /** What other threads may read about the node, published after every loop iteration. */
    public record Status(long id, long term, long leader, Role role, long commitIndex, long appliedIndex,
                         long lastIndex, boolean learner, long leaderChanges, io.raftkv.raft.ConfState conf) {
    }

    private final long id;
    private final RaftNode raft;
    private final SegmentedWal wal;
    private final StateMachine machine;
    private final Consumer<List<Message>> sender;
    private final long tickNanos;
    private final long snapshotCount;
    private final Thread thread;
    private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final AtomicLong requestSeq = new AtomicLong();

    // driver-thread state
    private final Map<Long, CompletableFuture<Object>> pending = new HashMap<>();
    private final List<byte[]> proposalBatch = new ArrayList<>();
    private final List<CompletableFuture<Object>> proposalFutures = new ArrayList<>();
    private final List<CompletableFuture<Long>> readBatch = new ArrayList<>();
    private final Map<ByteBuffer, List<CompletableFuture<Long>>> readsInFlight = new HashMap<>();
    private final List<ReadyRead> readsReady = new ArrayList<>();

    /** Reads whose ReadIndex point is known; released once this member has applied that far. */
    private record ReadyRead(long index, List<CompletableFuture<Long>> futures) {
    }
    private long readSeq;
    private long applied;
    private long durableTerm;
    private long durableVote;
    private long lastSnapshotIndex;
    /** The log may be compacted up to here once the state machine has made it durable; 0: none. */
    private long compactionTarget;
    private long nextDurableCheckNanos;
    private long lastLeader = RaftNode.NONE;
    private long leaderChanges;
    private volatile Status status;
    private volatile Observer observer = new Observer() { };
    private volatile LeadershipListener leadershipListener = (leader, term) -> { };
    private boolean wasLeader;
    /** The term this member leads (while wasLeader), and whether leaderCaughtUp was told. */
    private long leaderTerm;
    private boolean leaderCaughtUpTold;
    private volatile int pendingProposals;
    private volatile boolean running = true;
    private volatile Throwable fatal;
    /** Told once, on the driver thread, when the loop dies; see {@link #onFatal(Consumer)}. */
    private volatile Consumer<Throwable> fatalHandler = t -> { };

    /**
     * Creates the driver; call {@link #start()} to run it.
     *
     * @param config        Raft parameters (ids, ticks)
     * @param wal           the node's durable log, already open
     * @param appliedIndex  the state machine's durable applied index
     * @param machine       the state machine
     * @param sender        hands outgoing messages to the transport; must not block
     * @param tickMillis    wall-clock length of one tick
     * @param snapshotCount applied entries between local snapshots (log compaction)
     */
    public RaftDriver(Config config, SegmentedWal wal, long appliedIndex, StateMachine machine,
                      Consumer<List<Message>> sender, long tickMillis, long snapshotCount) {
        this.id = config.id();
        this.wal = wal;
        this.machine = machine;
        this.sender = sender;
        this.tickNanos = TimeUnit.MILLISECONDS.toNanos(tickMillis);
        this.snapshotCount = snapshotCount;
        if (appliedIndex < wal.firstIndex() - 1) {
            throw new IllegalStateException("the state machine has applied only up to index " + appliedIndex
                    + " but the log starts at " + wal.firstIndex() + ": the entries in between are gone."
                    + " Replace this member (remove it and add it back with an empty data dir).");
        }
        long commit = wal.initialState().hardState().commit();
        long safeApplied = Math.min(appliedIndex, Math.max(commit, wal.snapshot().metadata().index()));
        this.raft = new RaftNode(config, wal, Math.max(safeApplied, 0));
        this.applied = raft.appliedIndex();
        this.lastSnapshotIndex = wal.snapshot().metadata().index();
        this.durableTerm = wal.initialState().hardState().term();
        this.durableVote = wal.initialState().hardState().vote();
        this.thread = new Thread(this::loop, "raft-driver-" + Long.toHexString(id));
        this.thread.setDaemon(true);
        publishStatus();
    }

    /** A random generator for election timeouts, seeded from the member id and the clock. */
    public static SplittableRandom seededRandom(long memberId) {
        return new SplittableRandom(memberId ^ System.nanoTime());
    }

    /** Sets the metrics hooks (before {@link #start()}). */
    public void observe(Observer o) {
        this.observer = o;
    }

    /** Sets the leadership listener (before {@link #start()}). */
    public void onLeadership(LeadershipListener l) {
        this.leadershipListener = l;
    }

    /** Proposals from this member waiting to be applied. */
    public int pendingProposals() {
        return pendingProposals;
    }

    /** Starts the driver thread. */
    public void start() {
        thread.start();
    }

    /** This member's id. */
    public long id() {
        return id;
    }

    /** The latest published status; safe from any thread. */
    public Status status() {
        return status;
    }

    /**
     * Sets what happens when the driver loop dies of an error it cannot handle (an
     * OutOfMemoryError, a failed fsync, a broken invariant): by then every waiting proposal has
     * failed with "etcdserver: server stopped". The node exits so that a supervisor restarts it
     * from its durable state, as etcd panics; a member that stays up without a driver would keep
     * claiming in its status to lead.
     */
    public void onFatal(Consumer<Throwable> handler) {
        this.fatalHandler = handler;
    }

    /** The error the driver loop died of, or null while it runs. */
    public Throwable fatalError() {
        return fatal;
    }

    /** A new request id, unique in this member (member id in the high bits). */
    public long nextRequestId() {
        return (id << 24) ^ (System.nanoTime() << 8) ^ requestSeq.incrementAndGet();
    }

    /** Runs {@code task} on the driver thread. */
    public void submit(Runnable task) {
        if (!running) {
            throw EtcdErrors.STOPPED.exception();
        }
        inbox.add(task);
    }

    /** Runs {@code task} with the Raft node on the driver thread and returns its result. */
    public <T> CompletableFuture<T> call(java.util.function.Function<RaftNode, T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        submit(() -> {
            try {
                f.complete(task.apply(raft));
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    /**
     * Proposes {@code data} (an encoded request with id {@code requestId}); the future completes
     * with the state machine's result once the entry is applied here, or fails with "no leader".
     */
    public CompletableFuture<Object> propose(long requestId, byte[] data) {
        CompletableFuture<Object> f = new CompletableFuture<>();
        submit(() -> enqueueProposal(requestId, data, f));
        return f;
    }

    private void enqueueProposal(long requestId, byte[] data, CompletableFuture<Object> f) {
        pending.put(requestId, f);
        proposalBatch.add(data);
        proposalFutures.add(f);
        f.whenComplete((r, t) -> submit(() -> pending.remove(requestId)));
    }

    /**
     * Like {@link #propose}, but only while this member is still leader of {@code term}; otherwise
     * the future fails with "not leader". For decisions only that leader may take (a lease revoke
     * decided by its lessor), as etcd checks leadership before revoking (etcd #15247).
     */
    public CompletableFuture<Object> proposeAsLeaderOf(long term, long requestId, byte[] data) {
        CompletableFuture<Object> f = new CompletableFuture<>();
        submit(() -> {
            if (raft.role() != Role.LEADER || raft.term() != term) {
                f.completeExceptionally(EtcdErrors.NOT_LEADER.exception());
                return;
            }
            enqueueProposal(requestId, data, f);
        });
        return f;
    }

    /** Proposes a membership change; the future completes when its joint entry is applied. */
    public CompletableFuture<Object> proposeConfChange(long requestId, ConfChange cc) {
        CompletableFuture<Object> f = new CompletableFuture<>();
        submit(() -> {
            try {
                if (raft.role() != Role.LEADER && raft.leader() == RaftNode.NONE) {
                    throw new ProposalDroppedException("no leader");
                }
                if (raft.confChangeInFlight()) {
                    f.completeExceptionally(EtcdErrors.CONF_CHANGE_IN_PROGRESS.exception());
                    return;
                }
                pending.put(requestId, f);
                f.whenComplete((r, t) -> submit(() -> pending.remove(requestId)));
                raft.proposeConfChange(cc);
                drainReady();
            } catch (ProposalDroppedException e) {
                pending.remove(requestId);
                f.completeExceptionally(dropped(e));
            }
        });
        return f;
    }

    /**
     * A linearizable read point (ReadIndex, thesis §6.4): completes with an index once this node
     * has applied at least that far, so that reading the state machine then is linearizable.
     */
    public CompletableFuture<Long> readIndex() {
        CompletableFuture<Long> f = new CompletableFuture<>();
        submit(() -> readBatch.add(f));
        return f;
    }

    // ------------------------------------------------------------------ driver thread

    private void loop() {
        long nextTick = System.nanoTime() + tickNanos;
        try {
            while (running) {
                long wait = nextTick - System.nanoTime();
                Runnable task = wait > 0 ? inbox.poll(wait, TimeUnit.NANOSECONDS) : inbox.poll();
                int budget = 4096;
                while (task != null && budget-- > 0) {
                    task.run();
                    task = inbox.poll();
                }
                if (task != null) {
                    task.run();
                }
                long now = System.nanoTime();
                if (now >= nextTick) {
                    raft.tick();
                    nextTick += tickNanos;
                    if (now - nextTick > 10 * tickNanos) {
                        nextTick = now + tickNanos; // we were paused; do not replay missed ticks
                    }
                }
                flushProposals();
                flushReads();
                drainReady();
                publishStatus();
            }
        } catch (Throwable t) {
            fatal = t;
            running = false;
            LOG.log(Level.SEVERE, "raft driver stopped", t);
            failAll(EtcdErrors.STOPPED.exception());
            fatalHandler.accept(t);
        }
    }

    private void flushProposals() {
        if (proposalBatch.isEmpty()) {
            return;
        }
        List<byte[]> batch = new ArrayList<>(proposalBatch);
        List<CompletableFuture<Object>> futures = new ArrayList<>(proposalFutures);
        proposalBatch.clear();
        proposalFutures.clear();
        try {
            raft.proposeBatch(batch);
        } catch (ProposalDroppedException e) {
            for (CompletableFuture<Object> f : futures) {
                observer.proposalFailed();
                f.completeExceptionally(dropped(e));
            }
        }
    }

    private RuntimeException dropped(ProposalDroppedException e) {
        if (e.getMessage() != null && e.getMessage().contains("transfer")) {
            return EtcdErrors.LEADER_CHANGED.exception();
        }
        return EtcdErrors.NO_LEADER.exception();
    }

    private void flushReads() {
        if (readBatch.isEmpty()) {
            return;
        }
        List<CompletableFuture<Long>> batch = new ArrayList<>(readBatch);
        readBatch.clear();
        byte[] ctx = ByteBuffer.allocate(16).putLong(id).putLong(++readSeq).array();
        try {
            readsInFlight.put(ByteBuffer.wrap(ctx), batch);
            raft.readIndex(ctx);
        } catch (ProposalDroppedException e) {
            readsInFlight.remove(ByteBuffer.wrap(ctx));
            for (CompletableFuture<Long> f : batch) {
                f.completeExceptionally(EtcdErrors.NO_LEADER.exception());
            }
        }
    }

    private void drainReady() {
        while (raft.hasReady()) {
            Ready rd = raft.ready();
            handleReady(rd);
        }
    }

    private void handleReady(Ready rd) {
        if (rd.softState() != null) {
            long leader = rd.softState().leader();
            if (leader != lastLeader) {
                if (leader != RaftNode.NONE) {
                    leaderChanges++;
                }
                // Reads waiting for the old leader's answer will never get one.
                for (List<CompletableFuture<Long>> fs : readsInFlight.values()) {
                    fs.forEach(f -> f.completeExceptionally(EtcdErrors.LEADER_CHANGED.exception()));
                }
                readsInFlight.clear();
                lastLeader = leader;
            }
            boolean leading = rd.softState().role() == Role.LEADER;
            if (leading != wasLeader) {
                wasLeader = leading;
                leaderTerm = raft.term();
                leaderCaughtUpTold = false;
                leadershipListener.leadershipChanged(leading, raft.term());
            }
        }
        // 1. A snapshot's payload goes into the state machine first.
        // 2. Messages that promise nothing about this member's log leave before the fsync, in
        //    parallel with it, when the Ready changes neither term nor vote: a leader's appends
        //    and heartbeats (thesis §10.2.1: the leader counts its own copy only when it computes
        //    the commit index on a later iteration, after this persist has returned), and anyone's
        //    forwarded proposals, forwarded reads and heartbeat answers. A follower's acks and
        //    every vote wait for the fsync: they must describe durable state.
        Snapshot snap = rd.snapshot();
        Snapshot logSnap = null;
        if (snap != null) {
            machine.installSnapshot(snap.metadata().index(), snap.data());
            logSnap = new Snapshot(snap.metadata(), machine.localSnapshotData());
        }
        List<Message> out = withSnapshotPayloads(rd.messages());
        List<Message> afterPersist = out;
        if (!out.isEmpty() && termAndVoteDurable(rd)) {
            List<Message> early = new ArrayList<>(out.size());
            afterPersist = new ArrayList<>();
            for (Message m : out) {
                (mayLeaveBeforePersist(m) ? early : afterPersist).add(m);
            }
            if (!early.isEmpty()) {
                sender.accept(early);
            }
        }
        // 3. Persist the log with one fsync and, while the disk syncs, apply the committed entries
        //    this member's log already held durably (from earlier Readys): their clients need not
        //    wait for this Ready's fsync. Normal entries only, and none with a snapshot: a
        //    configuration change is applied in its usual place, after the persist. The prefix is
        //    bounded before the write, which may overwrite the log's suffix.
        List<Entry> committed = rd.committedEntries();
        int preApplied = snap == null ? durablePrefix(committed, rd.entries()) : 0;
        try {
            boolean writes = rd.hardState() != null || !rd.entries().isEmpty() || logSnap != null;
            boolean mustSync = rd.mustSync() || logSnap != null;
            boolean syncs = mustSync || !rd.entries().isEmpty();
            long t0 = System.nanoTime();
            if (writes && preApplied > 0) {
                wal.startPersist(rd.hardState(), rd.entries(), logSnap, mustSync);
            } else if (writes) {
                wal.persist(rd.hardState(), rd.entries(), logSnap, mustSync);
            }
            long persisted = System.nanoTime();
            applyAll(committed.subList(0, preApplied));
            // 4. Wait for the fsync.
            if (writes) {
                long synced = wal.awaitPersist();
                if (syncs) {
                    observer.walSynced((synced == -1 ? persisted : synced) - t0);
                }
                if (rd.hardState() != null) {
                    durableTerm = rd.hardState().term();
                    durableVote = rd.hardState().vote();
                }
            }
            for (Entry e : rd.entries()) {
                if (e.type() == EntryType.CONF_CHANGE) {
                    machine.confChangeAppended(ConfChange.decode(e.data()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("write-ahead log failed", e);
        }
        // 5. Send the rest; a snapshot for a follower carries the state machine, not just the
        //    log's data.
        if (!afterPersist.isEmpty()) {
            sender.accept(afterPersist);
        }
        // 6. Apply the rest, then release the reads whose index is applied.
        if (snap != null) {
            applied = snap.metadata().index();
        }
        applyAll(committed.subList(preApplied, committed.size()));
        for (ReadState rs : rd.readStates()) {
            List<CompletableFuture<Long>> fs = readsInFlight.remove(ByteBuffer.wrap(rs.context()));
            if (fs != null) {
                readsReady.add(new ReadyRead(rs.index(), fs));
            }
        }
        raft.advance(rd);
        releaseReads();
        maybeSnapshot();
    }

    /**
     * True when this Ready changes neither term nor vote, so that messages which promise nothing
     * about the log may leave before its fsync (a leader's term and vote are durable before it
     * campaigns).
     */
    private boolean termAndVoteDurable(Ready rd) {
        return rd.hardState() == null
                || (rd.hardState().term() == durableTerm && rd.hardState().vote() == durableVote);
    }

    /**
     * Messages that claim nothing about this member's durable log or vote: a leader's appends and
     * heartbeats (its own copy counts only after its fsync), forwarded proposals and reads, a
     * leader's read answers, and a follower's heartbeat answers (they carry only the term, which
     * is durable when {@link #termAndVoteDurable} holds).
     */
    private static boolean mayLeaveBeforePersist(Message m) {
        return m instanceof Message.AppendEntries || m instanceof Message.Heartbeat
                || m instanceof Message.HeartbeatResponse || m instanceof Message.Propose
                || m instanceof Message.ReadIndexRequest || m instanceof Message.ReadIndexResponse;
    }

    /**
     * How many of {@code committed}, from the front, are normal entries this member's log holds
     * durably already: below both the log's last index and the first entry this Ready writes
     * (which may overwrite a suffix).
     */
    private int durablePrefix(List<Entry> committed, List<Entry> appending) {
        long durableLast = wal.durableLastIndex();
        if (!appending.isEmpty()) {
            durableLast = Math.min(durableLast, appending.get(0).index() - 1);
        }
        int n = 0;
        while (n < committed.size() && committed.get(n).index() <= durableLast
                && committed.get(n).type() == EntryType.NORMAL) {
            n++;
        }
        return n;
    }

    private void applyAll(List<Entry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        for (Entry e : entries) {
            apply(e);
            if (wasLeader && !leaderCaughtUpTold && e.term() == leaderTerm) {
                leaderCaughtUpTold = true;
                leadershipListener.leaderCaughtUp(leaderTerm);
            }
        }
        observer.applied(System.nanoTime() - t0, entries.size());
    }

    /** The messages with every InstallSnapshot carrying the state machine's snapshot payload. */
    private List<Message> withSnapshotPayloads(List<Message> out) {
        if (out.stream().noneMatch(m -> m instanceof Message.InstallSnapshot)) {
            return out;
        }
        List<Message> rewritten = new ArrayList<>(out.size());
        byte[] payload = null;
        for (Message m : out) {
            if (m instanceof Message.InstallSnapshot s) {
                if (payload == null) {
                    payload = machine.snapshotPayload();
                }
                m = new Message.InstallSnapshot(s.from(), s.to(), s.term(),
                        new Snapshot(s.snapshot().metadata(), payload));
            }
            rewritten.add(m);
        }
        return rewritten;
    }

    private void releaseReads() {
        for (Iterator<ReadyRead> it = readsReady.iterator(); it.hasNext(); ) {
            ReadyRead r = it.next();
            if (applied >= r.index()) {
                it.remove();
                r.futures().forEach(f -> f.complete(r.index()));
            }
        }
    }

    private void apply(Entry e) {
        if (e.type() == EntryType.CONF_CHANGE) {
            ConfChange cc = ConfChange.decode(e.data());
            machine.applyConfChange(e.index(), cc);
            long rid = machine.confRequestId(cc);
            CompletableFuture<Object> f = rid == 0 ? null : pending.remove(rid);
            if (f != null) {
                f.complete(e.index());
            }
        } else if (e.data().length == 0) {
            machine.applyNoop(e.index());
        } else {
            long rid = machine.requestId(e.data());
            CompletableFuture<Object> f = rid == 0 ? null : pending.remove(rid);
            try {
                Object result = machine.apply(e.index(), e.data());
                if (f != null) {
                    f.complete(result);
                }
            } catch (RuntimeException ex) {
                if (f != null) {
                    f.completeExceptionally(ex);
                }
            } catch (Error err) {
                // the loop dies of it (see onFatal); this proposal has left pending, so fail it here
                if (f != null) {
                    f.completeExceptionally(EtcdErrors.STOPPED.exception());
                }
                throw err;
            }
        }
        applied = e.index();
    }

    private void maybeSnapshot() {
        if (applied - lastSnapshotIndex >= snapshotCount) {
            wal.createSnapshot(applied, raft.confStateAt(applied), machine.localSnapshotData());
            lastSnapshotIndex = applied;
            // Keep some entries so that slightly lagging followers catch up without a snapshot.
            long keep = Math.min(5000, snapshotCount / 2);
            if (applied - keep > wal.firstIndex()) {
                compactionTarget = applied - keep;
                // Entries may leave the log only once their effects are durable in the state
                // machine, which writes no log of its own: have it flush, in the background, and
                // compact once it is done (a flush on this thread would stall heartbeats).
                machine.startSync();
            }
        }
        if (compactionTarget > 0 && System.nanoTime() - nextDurableCheckNanos >= 0) {
            nextDurableCheckNanos = System.nanoTime() + tickNanos;
            long to = Math.min(compactionTarget, machine.durableIndex());
            if (to >= wal.firstIndex()) {
                wal.compact(to);
            }
            if (to >= compactionTarget) {
                compactionTarget = 0;
            }
        }
    }

    private void publishStatus() {
        pendingProposals = pending.size();
        boolean learner = raft.confState().learners().contains(id);
        status = new Status(id, raft.term(), raft.leader(), raft.role(), raft.commitIndex(), applied,
                raft.lastIndex(), learner, leaderChanges, raft.confState());
    }

    private void failAll(RuntimeException e) {
        pending.values().forEach(f -> f.completeExceptionally(e));
        pending.clear();
        proposalFutures.forEach(f -> f.completeExceptionally(e));
        readBatch.forEach(f -> f.completeExceptionally(e));
        readsInFlight.values().forEach(fs -> fs.forEach(f -> f.completeExceptionally(e)));
        Runnable r;
        while ((r = inbox.poll()) != null) {
            // drop queued work; its futures fail by timeout at the caller
        }
    }

    /** Feeds a message received from a peer (any thread). */
    public void receive(Message m) {
        submit(() -> raft.step(m));
    }

    /** The transport could not reach a peer (any thread). */
    public void reportUnreachable(long peer) {
        submit(() -> raft.reportUnreachable(peer));
    }

    /** The transport finished sending a snapshot (any thread). */
    public void reportSnapshot(long peer, boolean success) {
        submit(() -> raft.reportSnapshot(peer, success));
    }

    /** Stops the driver thread and waits for it. Pending requests fail with "server stopped". */
    @Override
    public void close() throws InterruptedException {
        running = false;
        inbox.add(() -> { });
        thread.join(5000);
        failAll(EtcdErrors.STOPPED.exception());
    }
}

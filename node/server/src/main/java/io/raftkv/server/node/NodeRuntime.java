package io.raftkv.server.node;

import io.grpc.MethodDescriptor;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.raftkv.log.SegmentedWal;
import io.raftkv.mvcc.MvccException;
import io.raftkv.mvcc.MvccOptions;
import io.raftkv.raft.Bootstrap;
import io.raftkv.raft.ConfChange;
import io.raftkv.raft.Config;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.Message;
import io.raftkv.raft.RaftNode;
import io.raftkv.server.api.EtcdErrors;
import io.raftkv.server.api.etcd.LeaseCheckpoint;
import io.raftkv.server.api.etcd.LeaseCheckpointRequest;
import io.raftkv.server.api.etcd.LeaseRevokeRequest;
import io.raftkv.server.api.etcd.Member;
import io.raftkv.server.api.etcd.ResponseHeader;
import io.raftkv.server.api.internal.InternalRequest;
import io.raftkv.server.api.internal.MemberTableChange;
import io.raftkv.server.lease.Lessor;
import io.raftkv.server.lease.LessorLoop;
import io.raftkv.server.transport.GrpcPeerTransport;
import io.raftkv.server.transport.PeerTransport;
import io.raftkv.server.watch.WatchHub;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.common.GrpcStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A running raftkv node: opens the data dir (log, store, member table), bootstraps a new cluster
 * or joins an existing one, and wires the Raft driver to the peer transport. The gRPC services
 * reach the node only through this object.
 *
 * <p>Created by CDI at startup from the {@link NodeSettings} that {@code RaftkvMain} resolved from
 * the command line ({@link #configure}).
 */
@ApplicationScoped
public class NodeRuntime {
    /** The exit status of a member whose driver died (etcd's panic status). */
    static final int FATAL_EXIT_STATUS = 2;

    private static final Logger LOG = Logger.getLogger(NodeRuntime.class.getName());
    private static volatile NodeSettings configured;

    @Inject
    MeterRegistry registry;

    @Inject
    io.vertx.core.Vertx vertx;
    /** True once metrics are registered; per-peer round-trip timers are created on first use. */
    private volatile boolean metricsRegistered;

    private NodeSettings settings;
    private SegmentedWal wal;
    private KvStateMachine machine;
    private WatchHub watchHub;
    private PeerTransport transport;
    private volatile RaftDriver driver;
    private volatile Membership membership;
    private volatile long memberId;
    private Lessor lessor;
    private LessorLoop lessorLoop;
    private volatile GrpcClient leaderClient;
    private final ExecutorService readPool = Executors.newFixedThreadPool(
            Math.max(4, Runtime.getRuntime().availableProcessors() * 2), r -> {
                Thread t = new Thread(r, "raftkv-read");
                t.setDaemon(true);
                return t;
            });
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "raftkv-timer");
        t.setDaemon(true);
        return t;
    });
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    /** Consecutive election-timeout checks without a leader (etcd ends require-leader streams at 3). */
    private static final int LEADER_LOSS_CHECKS = 3;
    private final java.util.Set<Runnable> leaderLossHandlers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private int leaderlessChecks; // timer thread only
    private final java.util.concurrent.atomic.AtomicBoolean removedLogged = new java.util.concurrent.atomic.AtomicBoolean();
    private Duration requestTimeout;

    /** How often the leader's lessor looks for expired leases and due checkpoints. */
    private static final long LESSOR_PERIOD_MILLIS = 100;

    /** Proposes the lessor's decisions, each only while this member still leads the same term. */
    private final class LessorProposer implements LessorLoop.Proposer {
        private final RaftDriver d;

        LessorProposer(RaftDriver d) {
            this.d = d;
        }

        @Override
        public void revoke(long term, long id) {
            propose(term, InternalRequest.newBuilder()
                    .setLeaseRevoke(LeaseRevokeRequest.newBuilder().setID(id))).whenComplete((r, t) -> {
                        Throwable cause = t instanceof java.util.concurrent.CompletionException ? t.getCause() : t;
                        if (cause instanceof MvccException m && m.code() == MvccException.Code.LEASE_NOT_FOUND) {
                            lessor.revoked(id); // already revoked by a request the lessor has not seen
                        } else if (t != null) {
                            LOG.fine("revoking expired lease " + Long.toHexString(id) + " failed, will retry: " + t);
                        }
                    });
        }

        @Override
        public void checkpoint(long term, Map<Long, Long> remainingTtlSeconds) {
            LeaseCheckpointRequest.Builder cp = LeaseCheckpointRequest.newBuilder();
            remainingTtlSeconds.forEach((id, ttl) -> cp.addCheckpoints(
                    LeaseCheckpoint.newBuilder().setID(id).setRemainingTTL(ttl)));
            propose(term, InternalRequest.newBuilder().setLeaseCheckpoint(cp)).whenComplete((r, t) -> {
                if (t != null) {
                    LOG.fine("lease checkpoint failed, the next one supersedes it: " + t);
                }
            });
        }

        private CompletableFuture<Object> propose(long term, InternalRequest.Builder request) {
            long id = d.nextRequestId();
            return timeout(d.proposeAsLeaderOf(term, id, request.setId(id).build().toByteArray()));
        }
    }

    /** Sets the settings the next started node uses (called by main before Quarkus starts). */
    public static void configure(NodeSettings s) {
        configured = s;
    }

    void onStart(@Observes StartupEvent ev) throws IOException {
        NodeSettings s = configured;
        if (s == null) {
            throw new IllegalStateException("raftkv node started without settings (run through RaftkvMain)");
        }
        start(s);
    }

    void onStop(@Observes ShutdownEvent ev) {
        close();
    }

    /** Opens everything and starts the node. */
    public synchronized void start(NodeSettings s) throws IOException {
        this.settings = s;
        this.requestTimeout = Duration.ofMillis(5000 + 2L * s.electionTicks() * s.tickMillis());
        Path member = s.dataDir().resolve("member");
        Files.createDirectories(member);
        wal = SegmentedWal.open(member.resolve("wal"));
        MemberTable members = MemberTable.open(member);
        machine = new KvStateMachine(member, MvccOptions.defaults().withQuotaBytes(s.quotaBytes()), members);
        watchHub = new WatchHub(machine::store, this::header, WatchHub.Options.defaults()
                .withMaxRequestBytes(s.maxRequestBytes())
                .withProgressNotifyIntervalMillis(s.watchProgressNotifyIntervalMillis()));
        machine.watchStore(watchHub.listener(), watchHub::storeReplaced);
        watchHub.start();
        // The extension covers the longest randomized election timeout (2 x election ticks).
        lessor = new Lessor(System::nanoTime,
                Lessor.Settings.forElectionTimeout(2L * s.electionTicks() * s.tickMillis()));
        machine.onLeaseApplied(new KvStateMachine.LeaseListener() {
            @Override
            public void granted(long id, long ttlSeconds) {
                lessor.granted(id, ttlSeconds);
            }

            @Override
            public void revoked(long id) {
                lessor.revoked(id);
            }

            @Override
            public void checkpointed(long id, long remainingTtlSeconds) {
                lessor.checkpointed(id, remainingTtlSeconds);
            }
        });
        Path idFile = member.resolve("member-id");
        long id = s.memberId();
        if (Files.exists(idFile)) {
            id = Long.parseUnsignedLong(Files.readString(idFile).trim(), 16);
        }
        transport = new GrpcPeerTransport(s.listenPeer().getHost(), s.listenPeer().getPort());
        transport.setAdvertisedPeerUrl(s.advertisePeerUrls().get(0));
        boolean fresh = wal.lastIndex() == 0 && wal.initialState().hardState().isEmpty();
        if (fresh && !s.joinExisting()) {
            bootstrap(s);
        }
        final boolean awaitingIdentity = id == 0;
        transport.start(new PeerTransport.MessageHandler() {
            @Override
            public void onMessage(Message m) {
                RaftDriver d = driver;
                if (d == null && awaitingIdentity) {
                    learnIdentity(m);
                    d = driver;
                }
                if (d != null) {
                    d.receive(m);
                }
                // else: still starting; Raft retransmits
            }

            @Override
            public void onUnreachable(long peer) {
                RaftDriver d = driver;
                if (d != null) {
                    d.reportUnreachable(peer);
                }
            }

            @Override
            public void onRemoved() {
                if (removedLogged.compareAndSet(false, true)) {
                    LOG.severe("this member has been removed from the cluster; stopping. Its data dir must not be"
                            + " reused: add it back as a new member with an empty data dir.");
                    io.quarkus.runtime.Quarkus.asyncExit(0);
                }
            }

            @Override
            public void onRoundTrip(long peer, long nanos) {
                if (metricsRegistered) {
                    Timer.builder("etcd_network_peer_round_trip_time").tag("To", Long.toHexString(peer))
                            .publishPercentileHistogram().register(registry).record(nanos, TimeUnit.NANOSECONDS);
                }
            }

            @Override
            public void onSnapshotStatus(long peer, boolean success) {
                RaftDriver d = driver;
                if (d != null) {
                    d.reportSnapshot(peer, success);
                }
            }
        });
        if (id != 0) {
            Files.writeString(idFile, Long.toHexString(id));
            startDriver(id);
        } else {
            LOG.info("joining an existing cluster: waiting for the leader to contact this member");
        }
        updatePeers();
        timer.scheduleWithFixedDelay(this::publishAttributes, 200, 500, TimeUnit.MILLISECONDS);
        long electionMillis = (long) s.electionTicks() * s.tickMillis();
        timer.scheduleWithFixedDelay(this::checkLeaderLoss, electionMillis, electionMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * etcd's rule for streams opened with WithRequireLeader: once this member has seen no leader at
     * {@link #LEADER_LOSS_CHECKS} checks in a row, one election timeout apart, every such stream is
     * ended. New requests with that header are refused at once (grpc/RequireLeader); existing
     * streams get a few election timeouts, since a client's reconnect costs more than a refusal.
     */
    private void checkLeaderLoss() {
        // A periodic task that throws is never run again: nothing may escape.
        try {
            leaderlessChecks = hasLeader() ? 0 : leaderlessChecks + 1;
        } catch (RuntimeException e) {
            LOG.warning("checking for a leader: " + e);
            return;
        }
        if (leaderlessChecks < LEADER_LOSS_CHECKS) {
            return;
        }
        for (Runnable r : List.copyOf(leaderLossHandlers)) {
            if (leaderLossHandlers.remove(r)) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.warning("ending a stream that requires a leader: " + e);
                }
            }
        }
    }

    /** A new cluster: every initial member writes the same first entry, carrying the member table. */
    private void bootstrap(NodeSettings s) throws IOException {
        MemberTableChange.Builder ctx = MemberTableChange.newBuilder().setClusterId(s.clusterId());
        for (Map.Entry<Long, NodeSettings.InitialMember> e : new TreeMap<>(s.initialMembers()).entrySet()) {
            ctx.addUpserts(Member.newBuilder().setID(e.getKey()).setName(e.getValue().name())
                    .addAllPeerURLs(e.getValue().peerUrls()));
        }
        Entry first = Bootstrap.entries(s.initialMembers().keySet()).get(0);
        ConfChange cc = ConfChange.decode(first.data());
        Entry withMembers = new Entry(first.term(), first.index(), EntryType.CONF_CHANGE,
                new ConfChange(cc.changes(), ctx.build().toByteArray()).encode());
        wal.persist(Bootstrap.hardState(), List.of(withMembers), null);
    }

    private synchronized void learnIdentity(Message m) {
        if (driver != null) {
            return;
        }
        try {
            Path idFile = settings.dataDir().resolve("member").resolve("member-id");
            Files.writeString(idFile, Long.toHexString(m.to()));
            LOG.info("joined as member " + Long.toHexString(m.to()));
            startDriver(m.to());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void startDriver(long id) {
        this.memberId = id;
        // 1 MiB per AppendEntries, 512 in flight but at most 16 MiB of entries per follower, so that
        // streaming a long log to a member far behind cannot exhaust the heap (etcd MaxInflightBytes).
        Config cfg = new Config(id, settings.electionTicks(), settings.heartbeatTicks(), 1 << 20, 512,
                64L << 20, true, true, RaftDriver.seededRandom(id)).withMaxInflightBytes(16L << 20);
        RaftDriver d = new RaftDriver(cfg, wal, machine.store().appliedIndex(), machine,
                msgs -> transport.send(msgs), settings.tickMillis(), settings.snapshotCount());
        machine.onMembersChanged(this::updatePeers);
        d.onLeadership(new RaftDriver.LeadershipListener() {
            @Override
            public void leadershipChanged(boolean leader, long term) {
                if (!leader) {
                    lessor.demote();
                }
            }

            @Override
            public void leaderCaughtUp(long term) {
                // Only now is the store's lease state the committed one: after a restart the
                // store may be behind its log (it writes no WAL of its own), and checkpoints
                // replayed after promotion would not shorten the expiries promotion computed.
                lessor.promote(term, machine.store().leases());
            }
        });
        lessorLoop = new LessorLoop(lessor, new LessorProposer(d), LESSOR_PERIOD_MILLIS);
        if (registry != null) {
            registerMetrics(d);
        }
        this.membership = new Membership(d, machine, settings.token());
        // etcd panics on what it cannot handle; so does this member, rather than stay up as a
        // leader without a driver. Its state is durable, so this is a crash like any other.
        d.onFatal(t -> {
            LOG.severe("raft driver failed (" + t + "); exiting with status " + FATAL_EXIT_STATUS
                    + " so that a supervisor restarts this member from its durable state");
            Runtime.getRuntime().halt(FATAL_EXIT_STATUS);
        });
        this.driver = d;
        d.start();
        started.complete(null);
    }

    /** etcd's metric names where the meaning is the same, so etcd's dashboards work. */
    private void registerMetrics(RaftDriver d) {
        Gauge.builder("etcd_server_has_leader", d, x -> x.status().leader() != RaftNode.NONE ? 1 : 0)
                .description("Whether or not a leader exists. 1 is existence, 0 is not.").register(registry);
        Gauge.builder("etcd_server_is_leader", d, x -> x.status().leader() == x.id() ? 1 : 0)
                .description("Whether or not this member is a leader.").register(registry);
        FunctionCounter.builder("etcd_server_leader_changes_seen", d, x -> x.status().leaderChanges())
                .description("The number of leader changes seen.").register(registry);
        Gauge.builder("etcd_server_proposals_committed_total", d, x -> x.status().commitIndex())
                .description("The total number of consensus proposals committed.").register(registry);
        Gauge.builder("etcd_server_proposals_applied_total", d, x -> x.status().appliedIndex())
                .description("The total number of consensus proposals applied.").register(registry);
        Gauge.builder("etcd_server_proposals_pending", d, RaftDriver::pendingProposals)
                .description("The current number of pending proposals to commit.").register(registry);
        Counter failed = Counter.builder("etcd_server_proposals_failed")
                .description("The total number of failed proposals seen.").register(registry);
        Gauge.builder("etcd_mvcc_db_total_size_in_bytes", machine, m -> m.store().dbSizeBytes())
                .description("Total size of the underlying database physically allocated in bytes.").register(registry);
        Gauge.builder("etcd_debugging_mvcc_watcher_total", watchHub, WatchHub::watchers)
                .description("Total number of watchers.").register(registry);
        Gauge.builder("etcd_debugging_mvcc_slow_watcher_total", watchHub, WatchHub::slowWatchers)
                .description("Total number of unsynced slow watchers.").register(registry);
        metricsRegistered = true;
        Timer fsync = Timer.builder("etcd_disk_wal_fsync_duration").publishPercentileHistogram()
                .description("The latency distributions of fsync called by WAL.").register(registry);
        Timer commit = Timer.builder("etcd_disk_backend_commit_duration").publishPercentileHistogram()
                .description("The latency distributions of commit called by backend.").register(registry);
        d.observe(new RaftDriver.Observer() {
            @Override
            public void walSynced(long nanos) {
                fsync.record(nanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void applied(long nanos, int entries) {
                commit.record(nanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void proposalFailed() {
                failed.increment();
            }
        });
    }

    private void updatePeers() {
        Map<Long, String> peers = new HashMap<>();
        List<Member> known = new ArrayList<>(machine.members().list());
        known.addAll(machine.appendedMembers()); // voters of an appended, uncommitted configuration
        for (Member m : known) {
            if (m.getID() != memberId && m.getPeerURLsCount() > 0) {
                URI u = URI.create(m.getPeerURLs(0));
                peers.putIfAbsent(m.getID(), u.getHost() + ":" + u.getPort());
            }
        }
        transport.setPeers(peers);
        transport.setRemovedPeers(machine.members().removed());
    }

    /** etcd's publish: once there is a leader, record this member's name and client URLs. */
    private void publishAttributes() {
        RaftDriver d = driver;
        if (d == null || d.status().leader() == RaftNode.NONE) {
            return;
        }
        Member current = machine.members().snapshot().get(memberId);
        if (current != null && current.getName().equals(settings.name())
                && current.getClientURLsList().equals(settings.advertiseClientUrls())) {
            return;
        }
        Member attrs = Member.newBuilder().setID(memberId).setName(settings.name())
                .addAllClientURLs(settings.advertiseClientUrls()).build();
        try {
            propose(InternalRequest.newBuilder().setMemberAttributes(attrs), attrs.getSerializedSize())
                    .get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.fine("publishing member attributes failed, will retry: " + e);
        }
    }

    // ------------------------------------------------------------------ for the services

    /** The Raft driver; fails with "no leader" while a joining member has not been contacted yet. */
    public RaftDriver driver() {
        RaftDriver d = driver;
        if (d == null) {
            throw EtcdErrors.NO_LEADER.exception();
        }
        return d;
    }

    /** The state machine (store and member table); UNAVAILABLE while the member is starting. */
    public KvStateMachine machine() {
        return started(machine);
    }

    /** The watch hub serving this member's watchers; UNAVAILABLE while the member is starting. */
    public WatchHub watchHub() {
        return started(watchHub);
    }

    /**
     * {@code part}, or a retryable UNAVAILABLE while it does not exist yet: the gRPC server may take
     * calls before the data dir is open. etcd is not listening then, so its clients see UNAVAILABLE
     * too and retry (jetcd stops a watch for good on any other code).
     */
    private static <T> T started(T part) {
        if (part == null) {
            throw EtcdErrors.STARTING.exception();
        }
        return part;
    }

    /** Membership changes. */
    public Membership membership() {
        Membership m = membership;
        if (m == null) {
            throw EtcdErrors.NO_LEADER.exception();
        }
        return m;
    }

    /** This member's id (0 while a joining member waits to be contacted). */
    public long memberId() {
        return memberId;
    }

    /**
     * The cluster's id: the one the bootstrap entry recorded (so a member that joined later
     * reports the cluster it joined), else the one derived from this member's flags.
     */
    public long clusterId() {
        long id = machine.members().clusterId();
        return id != 0 ? id : settings.clusterId();
    }

    /** --max-txn-ops. */
    public int maxTxnOps() {
        return settings.maxTxnOps();
    }

    /** Where reads run after their ReadIndex round. */
    public ExecutorService readExecutor() {
        return readPool;
    }

    /** A response header; {@code revision} 0 means the store's current revision. */
    public ResponseHeader header(long revision) {
        RaftDriver d = driver;
        long rev = revision != 0 ? revision : machine.store().currentRevision();
        return ResponseHeader.newBuilder().setClusterId(clusterId()).setMemberId(memberId)
                .setRevision(rev).setRaftTerm(d == null ? 0 : d.status().term()).build();
    }

    /** Fails {@code f} with etcd's "request timed out" if it takes longer than the request timeout. */
    public <T> CompletableFuture<T> timeout(CompletableFuture<T> f) {
        return f.orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Replicates a request through the log; completes with the state machine's result. Requests
     * larger than --max-request-bytes fail with etcd's "request is too large".
     */
    public CompletableFuture<Object> propose(InternalRequest.Builder request, long requestBytes) {
        if (requestBytes > settings.maxRequestBytes()) {
            throw EtcdErrors.REQUEST_TOO_LARGE.exception();
        }
        RaftDriver d = driver();
        long id = d.nextRequestId();
        byte[] data = request.setId(id).build().toByteArray();
        return timeout(d.propose(id, data));
    }

    /**
     * Calls unary {@code method} on the leader's client URL with {@code req}; fails with "no
     * leader" when none is known and "not leader" when this member is the leader (a call that
     * only the leader answers must not be forwarded to itself). The leader's gRPC status is
     * passed through. Non-blocking; one shared HTTP/2 client.
     */
    public <Q, R> CompletableFuture<R> forwardToLeader(MethodDescriptor<Q, R> method, Q req) {
        long leader = driver().status().leader();
        Member m = leader == RaftNode.NONE ? null : machine.members().snapshot().get(leader);
        if (m == null || m.getClientURLsCount() == 0 || leader == memberId) {
            return CompletableFuture.failedFuture(leader == RaftNode.NONE
                    ? EtcdErrors.NO_LEADER.exception() : EtcdErrors.NOT_LEADER.exception());
        }
        URI target = URI.create(m.getClientURLs(0));
        CompletableFuture<R> out = new CompletableFuture<>();
        leaderClient().request(SocketAddress.inetSocketAddress(target.getPort(), target.getHost()),
                        method)
                .compose(r -> r.send(req))
                .onFailure(out::completeExceptionally)
                .onSuccess(resp -> resp.last().onComplete(ar -> {
                    GrpcStatus st = resp.status();
                    if (st != null && st != GrpcStatus.OK) {
                        out.completeExceptionally(io.grpc.Status.fromCodeValue(st.code)
                                .withDescription(resp.statusMessage()).asRuntimeException());
                    } else if (ar.succeeded()) {
                        out.complete(ar.result());
                    } else {
                        out.completeExceptionally(ar.cause());
                    }
                }));
        return timeout(out);
    }

    private GrpcClient leaderClient() {
        GrpcClient c = leaderClient;
        if (c == null) {
            synchronized (this) {
                c = leaderClient;
                if (c == null) {
                    c = GrpcClient.client(vertx, new GrpcClientOptions()
                            .setTransportOptions(new HttpClientOptions()
                                    .setProtocolVersion(HttpVersion.HTTP_2)
                                    .setHttp2ClearTextUpgrade(false)));
                    leaderClient = c;
                }
            }
        }
        return c;
    }

    /** The lessor: primary on the leader, where it decides lease expiry. */
    public Lessor lessor() {
        return started(lessor);
    }

    /**
     * etcd's minimum lease TTL: ceil(((3 x election ticks) / 2) x tick) in seconds, so that a
     * lease cannot expire during a leader election; smaller granted TTLs are raised to it.
     */
    public long minLeaseTtlSeconds() {
        long millis = (3L * settings.electionTicks()) / 2 * settings.tickMillis();
        return Math.max(1, (millis + 999) / 1000);
    }

    /** Completes with the leader once it is {@code target}, or with the last leader seen at timeout. */
    public CompletableFuture<Long> awaitLeader(long target) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        long deadline = System.nanoTime() + requestTimeout.toNanos();
        Runnable[] poll = new Runnable[1];
        poll[0] = () -> {
            long l = driver().status().leader();
            if (l == target || System.nanoTime() > deadline) {
                f.complete(l);
            } else {
                timer.schedule(poll[0], 20, TimeUnit.MILLISECONDS);
            }
        };
        timer.execute(poll[0]);
        return f;
    }

    /** Whether this member knows a leader now (etcd's {@code Leader() != None}); false until it runs. */
    public boolean hasLeader() {
        RaftDriver d = driver;
        return started() && d != null && d.fatalError() == null && d.status().leader() != RaftNode.NONE;
    }

    /**
     * Runs {@code onLoss} (once, on the timer thread) when this member has had no leader for
     * {@link #LEADER_LOSS_CHECKS} election timeouts; running the returned action unregisters it.
     */
    public Runnable onLeaderLoss(Runnable onLoss) {
        leaderLossHandlers.add(onLoss);
        return () -> leaderLossHandlers.remove(onLoss);
    }

    /** True once the driver runs (a joining member waits for the leader's first message). */
    public boolean started() {
        return started.isDone();
    }

    /** Stops the node: driver, transport, store, log. */
    public synchronized void close() {
        if (lessorLoop != null) {
            lessorLoop.close();
        }
        if (leaderClient != null) {
            leaderClient.close();
        }
        try {
            if (driver != null) {
                driver.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (transport != null) {
                transport.close();
            }
        } catch (Exception e) {
            LOG.warning("closing transport: " + e);
        }
        if (watchHub != null) {
            watchHub.close();
        }
        if (machine != null) {
            machine.close();
        }
        try {
            if (wal != null) {
                wal.close();
            }
        } catch (IOException e) {
            LOG.warning("closing log: " + e);
        }
        timer.shutdownNow();
        readPool.shutdownNow();
    }
}

package io.raftkv.server.node;

import com.google.protobuf.ByteString;
import io.raftkv.log.SegmentedWal;
import io.raftkv.mvcc.Bytes;
import io.raftkv.mvcc.KeyValue;
import io.raftkv.mvcc.KvStore;
import io.raftkv.mvcc.MvccOptions;
import io.raftkv.mvcc.PutResponse;
import io.raftkv.mvcc.RangeRequest;
import io.raftkv.mvcc.TxnResponse;
import io.raftkv.raft.Bootstrap;
import io.raftkv.raft.ConfChange;
import io.raftkv.raft.Config;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.Role;
import io.raftkv.server.api.etcd.Compare;
import io.raftkv.server.api.etcd.Member;
import io.raftkv.server.api.etcd.PutRequest;
import io.raftkv.server.api.etcd.RequestOp;
import io.raftkv.server.api.etcd.TxnRequest;
import io.raftkv.server.api.internal.InternalRequest;
import io.raftkv.server.api.internal.MemberTableChange;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;

import static org.awaitility.Awaitility.await;

/**
 * The process that {@link DriverCrashTest} kills: a single-member node opened from its data dir as
 * {@link NodeRuntime} opens one (log in {@code member/wal}, member table and state machine in
 * {@code member}, the bootstrap entry on a fresh log), run by a real {@link RaftDriver}, writing
 * through the log and the state machine until it receives SIGKILL.
 *
 * <p>Arguments: data dir, the first key number to write, a workload seed. It writes puts of
 * {@link #key(long) k/<n>} = {@link #value(long)} (numbers never reused, so every key is put
 * exactly once) and, one at a time, compare-and-set transactions that raise {@link #COUNTER_KEY}
 * by one on its mod revision. Up to {@link #WINDOW} requests are in flight, so that the driver
 * batches many proposals into one fsync.
 *
 * <p>Reports on stdout, one event per line, each line handed to write(2) whole so that a kill
 * leaves at most an unterminated fragment, which the parent drops:
 * <ul>
 *   <li>{@code OPENING}: main started, about to open the data dir;</li>
 *   <li>{@code READY <counter> <redelivered>}: elected, caught up with the log; the counter's value
 *       and how many already-applied entries the driver handed to the state machine again;</li>
 *   <li>{@code ACK <n> <revision>}: the put of key n completed (applied) at that revision;</li>
 *   <li>{@code CASSENT <value>}: a compare-and-set to {@code value} is about to be proposed;</li>
 *   <li>{@code CAS <value> <revision>}: that compare-and-set completed and succeeded;</li>
 *   <li>{@code ERROR ...} or {@code VIOLATION ...}: something the parent fails the test on.</li>
 * </ul>
 */
final class DriverCrashChild {
    /** The only member. */
    static final long MEMBER_ID = 1;
    /** The key raised by one per successful compare-and-set. */
    static final String COUNTER_KEY = "counter";
    /** The prefix of the put keys. */
    static final String KEY_PREFIX = "k/";
    /** Applied entries between local snapshots: small, so that snapshots and compaction happen often. */
    static final long SNAPSHOT_COUNT = 200;
    /**
     * Log segment size. The one deliberate difference from {@link NodeRuntime} (which uses the
     * 64 MiB default): small segments, so that segment rollover, preallocation and the deletion
     * of compacted segments happen many times during the test.
     */
    static final SegmentedWal.Options WAL_OPTIONS = SegmentedWal.Options.defaults().withSegmentSizeBytes(256 << 10);
    /** Requests in flight at once. */
    static final int WINDOW = 32;
    private static final long TICK_MILLIS = 5;
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);

    private DriverCrashChild() {
    }

    /** Runs the workload until killed; see the class comment for the arguments and output. */
    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        long firstKey = Long.parseLong(args[1]);
        long seed = Long.parseLong(args[2]);
        LineWriter out = new LineWriter();
        out.line("OPENING");
        Node node = Node.open(dataDir, seed, v -> out.line("VIOLATION " + v));
        Optional<KeyValue> counter = node.get(COUNTER_KEY);
        long value = counter.map(kv -> Long.parseLong(kv.value().toStringUtf8())).orElse(0L);
        long modRevision = counter.map(KeyValue::modRevision).orElse(0L);
        out.line("READY " + value + " " + node.redelivered());
        new Workload(node, out, firstKey, value, modRevision, new SplittableRandom(seed)).run();
    }

    /** The key of put number {@code n}; zero-padded so that key order is number order. */
    static String key(long n) {
        return KEY_PREFIX + String.format("%015d", n);
    }

    /** The number in a put key. */
    static long keyNumber(String key) {
        return Long.parseLong(key.substring(KEY_PREFIX.length()));
    }

    /** The value of put number {@code n}: a function of n alone, of varying length. */
    static String value(long n) {
        return "v" + n + "/" + "x".repeat((int) (n % 97));
    }

    /** Keeps proposing until the process dies. */
    private static final class Workload {
        private final Node node;
        private final LineWriter out;
        private final SplittableRandom random;
        private final Semaphore window = new Semaphore(WINDOW);
        private final AtomicBoolean casInFlight = new AtomicBoolean();
        private long nextKey;
        // written by the driver thread before it clears casInFlight, read by main after seeing it clear
        private volatile long counter;
        private volatile long counterModRevision;

        Workload(Node node, LineWriter out, long firstKey, long counter, long counterModRevision,
                 SplittableRandom random) {
            this.node = node;
            this.out = out;
            this.nextKey = firstKey;
            this.counter = counter;
            this.counterModRevision = counterModRevision;
            this.random = random;
        }

        void run() throws InterruptedException {
            while (true) {
                window.acquire();
                if (random.nextInt(8) == 0 && casInFlight.compareAndSet(false, true)) {
                    proposeIncrement();
                } else {
                    proposePut(nextKey++);
                }
            }
        }

        private void proposePut(long n) {
            PutRequest put = PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key(n)))
                    .setValue(ByteString.copyFromUtf8(value(n))).build();
            propose(InternalRequest.newBuilder().setPut(put)).whenComplete((r, t) -> {
                if (t != null) {
                    out.line("ERROR put " + n + " failed: " + t);
                } else {
                    out.line("ACK " + n + " " + ((PutResponse) r).revision());
                }
                window.release();
            });
        }

        /** etcd's optimistic increment: put counter+1 if the counter's mod revision is unchanged. */
        private void proposeIncrement() {
            long next = counter + 1;
            TxnRequest txn = TxnRequest.newBuilder()
                    .addCompare(Compare.newBuilder().setKey(ByteString.copyFromUtf8(COUNTER_KEY))
                            .setTarget(Compare.CompareTarget.MOD).setResult(Compare.CompareResult.EQUAL)
                            .setModRevision(counterModRevision))
                    .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
                            .setKey(ByteString.copyFromUtf8(COUNTER_KEY))
                            .setValue(ByteString.copyFromUtf8(Long.toString(next)))))
                    .build();
            out.line("CASSENT " + next);
            propose(InternalRequest.newBuilder().setTxn(txn)).whenComplete((r, t) -> {
                if (t != null) {
                    out.line("ERROR compare-and-set to " + next + " failed: " + t);
                } else {
                    TxnResponse response = (TxnResponse) r;
                    if (response.succeeded()) {
                        counterModRevision = response.revision();
                        counter = next;
                        out.line("CAS " + next + " " + response.revision());
                    } else {
                        // Only this process writes the counter, and it read it after catching up.
                        out.line("ERROR compare-and-set to " + next + " on mod revision " + counterModRevision
                                + " did not hold: the counter is " + node.get(COUNTER_KEY));
                    }
                }
                casInFlight.set(false);
                window.release();
            });
        }

        /** Proposes as {@code NodeRuntime.propose} does: a fresh request id from the driver. */
        private CompletableFuture<Object> propose(InternalRequest.Builder request) {
            long id = node.driver().nextRequestId();
            return node.driver().propose(id, request.setId(id).build().toByteArray());
        }
    }

    /**
     * A single-member node opened from a data dir as {@link NodeRuntime} opens one, with its driver
     * started, elected and caught up with its log. Used by the child, and by the parent to
     * recover and inspect the data dir the same way between kills.
     */
    static final class Node implements AutoCloseable {
        private final SegmentedWal wal;
        private final KvStateMachine machine;
        private final ApplyChecker checker;
        private final RaftDriver driver;

        private Node(SegmentedWal wal, KvStateMachine machine, ApplyChecker checker, RaftDriver driver) {
            this.wal = wal;
            this.machine = machine;
            this.checker = checker;
            this.driver = driver;
        }

        /**
         * Opens the data dir, bootstraps a fresh log, starts the driver, campaigns and waits until
         * this member leads and has applied every entry in its log (including its own no-op, so
         * every entry of earlier terms is committed and applied). Blocks; throws if that takes
         * longer than the startup timeout.
         *
         * @param violations told about every breach of the apply contract, on the driver thread
         */
        static Node open(Path dataDir, long seed, Consumer<String> violations) throws Exception {
            Path member = dataDir.resolve("member");
            Files.createDirectories(member);
            SegmentedWal wal = SegmentedWal.open(member.resolve("wal"), WAL_OPTIONS);
            KvStateMachine machine = null;
            RaftDriver driver = null;
            try {
                MemberTable members = MemberTable.open(member);
                machine = new KvStateMachine(member, MvccOptions.defaults(), members);
                if (wal.lastIndex() == 0 && wal.initialState().hardState().isEmpty()) {
                    bootstrap(wal);
                }
                ApplyChecker checker = new ApplyChecker(machine, violations);
                Config config = new Config(MEMBER_ID, 10, 2, 1 << 20, 512, 64L << 20, true, true,
                        new SplittableRandom(seed));
                driver = new RaftDriver(config, wal, machine.store().appliedIndex(), checker, messages -> { },
                        TICK_MILLIS, SNAPSHOT_COUNT);
                driver.start();
                Node node = new Node(wal, machine, checker, driver);
                node.awaitCaughtUp();
                return node;
            } catch (Exception | Error e) {
                closeQuietly(driver, machine, wal);
                throw e;
            }
        }

        /** NodeRuntime's bootstrap for a one-member cluster: the first entry carries the member table. */
        private static void bootstrap(SegmentedWal wal) throws IOException {
            MemberTableChange context = MemberTableChange.newBuilder()
                    .addUpserts(Member.newBuilder().setID(MEMBER_ID).setName("crash")
                            .addPeerURLs("http://127.0.0.1:2380"))
                    .build();
            Entry first = Bootstrap.entries(Set.of(MEMBER_ID)).get(0);
            ConfChange cc = ConfChange.decode(first.data());
            Entry withMembers = new Entry(first.term(), first.index(), EntryType.CONF_CHANGE,
                    new ConfChange(cc.changes(), context.toByteArray()).encode());
            wal.persist(Bootstrap.hardState(), List.of(withMembers), null);
        }

        private void awaitCaughtUp() throws Exception {
            driver.call(raft -> {
                raft.campaign();
                return null;
            }).get(STARTUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            await("leadership and catch-up").atMost(STARTUP_TIMEOUT).pollInterval(Duration.ofMillis(2))
                    .until(() -> {
                        if (driver.fatalError() != null) {
                            throw new IllegalStateException("driver stopped", driver.fatalError());
                        }
                        RaftDriver.Status s = driver.status();
                        return s.role() == Role.LEADER && s.appliedIndex() >= s.lastIndex();
                    });
            // A ReadIndex round completes only once an entry of this term is committed and applied.
            driver.readIndex().get(STARTUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }

        RaftDriver driver() {
            return driver;
        }

        KvStore store() {
            return machine.store();
        }

        MemberTable members() {
            return machine.members();
        }

        /** The key's current version, if it exists. */
        Optional<KeyValue> get(String key) {
            List<KeyValue> kvs = store().range(RangeRequest.key(Bytes.of(key))).kvs();
            return kvs.isEmpty() ? Optional.empty() : Optional.of(kvs.get(0));
        }

        /** Every put key, in number order. */
        List<KeyValue> putKeys() {
            return store().range(RangeRequest.prefix(Bytes.of(KEY_PREFIX))).kvs();
        }

        /** How many entries at or below the store's appliedIndex the driver handed over again. */
        long redelivered() {
            return checker.redelivered;
        }

        /** Stops the driver, then closes the store and the log. */
        @Override
        public void close() throws Exception {
            closeQuietly(driver, machine, wal);
        }

        private static void closeQuietly(RaftDriver driver, KvStateMachine machine, SegmentedWal wal)
                throws Exception {
            Exception first = null;
            for (AutoCloseable c : new AutoCloseable[] {driver, machine, wal}) {
                try {
                    if (c != null) {
                        c.close();
                    }
                } catch (Exception e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    /**
     * The state machine with the apply contract checked around every call: the driver hands over
     * every index exactly once and in order, starting no later than just after the store's
     * appliedIndex; an index the store has already applied changes nothing (exactly once per
     * index); any other index moves the store's appliedIndex to it. Breaches go to the
     * violation sink rather than failing the driver thread, so that the test can report them.
     */
    static final class ApplyChecker implements RaftDriver.StateMachine {
        private final KvStateMachine machine;
        private final Consumer<String> violations;
        private long lastIndex = -1;
        private volatile long redelivered;

        ApplyChecker(KvStateMachine machine, Consumer<String> violations) {
            this.machine = machine;
            this.violations = violations;
        }

        private <T> T checked(long index, Supplier<T> apply) {
            KvStore store = machine.store();
            long appliedBefore = store.appliedIndex();
            long revisionBefore = store.currentRevision();
            if (lastIndex < 0 && index > appliedBefore + 1) {
                violations.accept("first index handed to the state machine is " + index
                        + " but the store has applied only up to " + appliedBefore + ": entries skipped");
            } else if (lastIndex >= 0 && index != lastIndex + 1) {
                violations.accept("index " + index + " handed to the state machine after " + lastIndex);
            }
            lastIndex = index;
            try {
                return apply.get();
            } finally {
                if (index <= appliedBefore) {
                    redelivered++;
                    if (store.currentRevision() != revisionBefore || store.appliedIndex() != appliedBefore) {
                        violations.accept("re-applying index " + index + " (store appliedIndex " + appliedBefore
                                + ") changed the store: revision " + revisionBefore + " -> " + store.currentRevision()
                                + ", appliedIndex -> " + store.appliedIndex());
                    }
                } else if (store.appliedIndex() != index) {
                    violations.accept("after applying index " + index + " the store's appliedIndex is "
                            + store.appliedIndex());
                }
            }
        }

        @Override
        public Object apply(long index, byte[] data) {
            return checked(index, () -> machine.apply(index, data));
        }

        @Override
        public void applyConfChange(long index, ConfChange cc) {
            checked(index, () -> {
                machine.applyConfChange(index, cc);
                return null;
            });
        }

        @Override
        public void applyNoop(long index) {
            checked(index, () -> {
                machine.applyNoop(index);
                return null;
            });
        }

        @Override
        public long requestId(byte[] data) {
            return machine.requestId(data);
        }

        @Override
        public long confRequestId(ConfChange cc) {
            return machine.confRequestId(cc);
        }

        @Override
        public byte[] snapshotPayload() {
            return machine.snapshotPayload();
        }

        @Override
        public void installSnapshot(long index, byte[] payload) {
            violations.accept("a single member never receives a snapshot, got one at index " + index);
            machine.installSnapshot(index, payload);
        }

        @Override
        public byte[] localSnapshotData() {
            return machine.localSnapshotData();
        }

        @Override
        public void startSync() {
            machine.startSync();
        }

        @Override
        public long durableIndex() {
            return machine.durableIndex();
        }
    }

    /** Writes each line to fd 1 with a single write(2), unbuffered; thread-safe. */
    private static final class LineWriter {
        private final FileOutputStream out = new FileOutputStream(FileDescriptor.out);

        synchronized void line(String s) {
            try {
                out.write((s + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot report to the parent", e);
            }
        }
    }
}

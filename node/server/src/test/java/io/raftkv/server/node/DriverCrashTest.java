package io.raftkv.server.node;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.raftkv.log.SegmentedWal;
import io.raftkv.mvcc.Bytes;
import io.raftkv.mvcc.KeyValue;
import io.raftkv.mvcc.KvStore;
import io.raftkv.mvcc.MvccOptions;
import io.raftkv.mvcc.PutResponse;
import io.raftkv.mvcc.RangeRequest;
import io.raftkv.mvcc.RocksDbKvStore;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import io.raftkv.server.api.etcd.PutRequest;
import io.raftkv.server.api.internal.InternalRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * Issue 3's crash test at the level of the real driver: a child JVM ({@link DriverCrashChild})
 * writes through the log and the state machine of a single-member node and is killed with SIGKILL
 * at random moments, on the same data dir, again and again.
 *
 * <p>After every kill the parent reopens the log and the store as they are on disk and checks
 * that the log reopens, that the store is never ahead of the log's durable commit index nor behind
 * its compaction point, and that the store holds exactly the puts of the retained log up to its
 * appliedIndex and none after it. After most kills (and always after the last) it also recovers
 * the node in-process the way the child does (real driver, election, replay) and checks that
 * every acknowledged put is there with its value and acknowledged revision, that every key was put
 * exactly once (version 1, and store revision = 1 + keys + counter, so any double application
 * shows), that the compare-and-set counter is at least the acknowledged increments and at most
 * the proposed ones, and that revision and appliedIndex never go back. Every apply call is checked
 * in order, in the child and in the parent, by {@link DriverCrashChild.ApplyChecker}.
 *
 * <p>{@code -Ddriver.crash.kills=N} sets the number of kills (default {@value #DEFAULT_KILLS}; more
 * for a soak), {@code -Ddriver.crash.seed=S} replays a schedule: the seed fixes every kill delay,
 * kill mode and workload seed, though not the exact interleaving of two real processes.
 */
class DriverCrashTest {
    private static final int DEFAULT_KILLS = 50;
    private static final Duration CHILD_TIMEOUT = Duration.ofSeconds(60);
    /** Key numbers of successive children start this far apart, so that no key is ever put twice. */
    private static final long KEYS_PER_CHILD = 10_000_000L;

    @Test
    void acknowledgedWritesSurviveSigkillOfTheDriverAndNothingIsAppliedTwice(@TempDir Path tmp) throws Exception {
        long seed = Long.getLong("driver.crash.seed", System.nanoTime());
        int kills = Integer.getInteger("driver.crash.kills", DEFAULT_KILLS);
        String replay = "mvn -pl node/server test -Dtest=DriverCrashTest -Ddriver.crash.seed=" + seed
                + " -Ddriver.crash.kills=" + kills;
        System.out.println("DriverCrashTest: seed " + seed + ", " + kills + " kills; replay with: " + replay);
        Path dataDir = tmp.resolve("data");
        Path childErr = tmp.resolve("child.err");
        SplittableRandom random = new SplittableRandom(seed);
        History history = new History();
        long started = System.nanoTime();
        int cycle = 0;
        try {
            while (history.kills < kills) {
                cycle++;
                runChildUntilKilled(dataDir, childErr, cycle, random, history);
                checkDurableState(dataDir, history);
                if (history.kills >= kills || random.nextInt(10) < 6) {
                    recoverAndCheck(dataDir, random.nextLong(), history);
                }
            }
        } catch (AssertionError | Exception e) {
            throw new AssertionError("failed in cycle " + cycle + " with seed " + seed + " (replay: " + replay
                    + "): " + e.getMessage() + tail(childErr), e);
        }
        System.out.printf("DriverCrashTest: %d kills (%d during startup or recovery) in %.1f s; %d puts and %d "
                        + "increments acknowledged (%d proposed), %d keys and counter %d in the store at the end, "
                        + "%d in-process recoveries, %d already-applied entries handed over again, "
                        + "%d torn output lines dropped%n",
                history.kills, history.earlyKills, (System.nanoTime() - started) / 1e9, history.ackedPuts.size(),
                history.casAcked, history.casSent, history.lastKeyCount, history.lastCounter, history.recoveries,
                history.redelivered, history.tornLines);
        assertThat(history.kills).isGreaterThanOrEqualTo(kills);
        assertThat(history.ackedPuts).as("the children acknowledged writes").isNotEmpty();
        assertThat(history.casAcked).as("the children acknowledged increments").isPositive();
    }

    /** The checks can fail: an acknowledged put that is missing, a put applied twice, an index skipped. */
    @Test
    void checksCatchALostWriteADoubleApplicationAndASkippedIndex(@TempDir Path tmp) throws Exception {
        Path dataDir = tmp.resolve("data");
        History history = new History();
        List<String> violations = Collections.synchronizedList(new ArrayList<>());
        try (DriverCrashChild.Node node = DriverCrashChild.Node.open(dataDir, 1, violations::add)) {
            for (long n = 1; n <= 5; n++) {
                long id = node.driver().nextRequestId();
                byte[] data = InternalRequest.newBuilder().setId(id).setPut(PutRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8(DriverCrashChild.key(n)))
                        .setValue(ByteString.copyFromUtf8(DriverCrashChild.value(n)))).build().toByteArray();
                PutResponse r = (PutResponse) node.driver().propose(id, data).get(10, TimeUnit.SECONDS);
                history.ackedPuts.put(n, r.revision());
            }
        }
        assertThat(violations).isEmpty();
        recoverAndCheck(dataDir, 2, history);

        History lost = new History();
        lost.ackedPuts.putAll(history.ackedPuts);
        lost.ackedPuts.put(6L, 99L);
        assertThatThrownBy(() -> recoverAndCheck(dataDir, 3, lost)).hasMessageContaining("acknowledged put 6");

        // A broken applier that applies the entry of key 3 again under a new index.
        Path member = dataDir.resolve("member");
        Path kv = member.resolve(Files.readString(member.resolve("kv.current")).trim());
        try (KvStore store = RocksDbKvStore.open(kv, MvccOptions.defaults())) {
            store.put(store.appliedIndex() + 1, io.raftkv.mvcc.PutRequest.of(
                    Bytes.of(DriverCrashChild.key(3)), Bytes.of(DriverCrashChild.value(3))));
        }
        assertThatThrownBy(() -> recoverAndCheck(dataDir, 4, history)).hasMessageContaining("applied twice");

        violations.clear();
        Path other = tmp.resolve("other");
        Files.createDirectories(other);
        try (KvStateMachine machine = new KvStateMachine(other, MvccOptions.defaults(), MemberTable.open(other))) {
            DriverCrashChild.ApplyChecker checker = new DriverCrashChild.ApplyChecker(machine, violations::add);
            checker.applyNoop(1);
            checker.applyNoop(3);
        }
        assertThat(violations).singleElement().asString().contains("index 3 handed to the state machine after 1");
    }

    // ------------------------------------------------------------------ one child

    private static void runChildUntilKilled(Path dataDir, Path childErr, int cycle, SplittableRandom random,
                                            History history) throws Exception {
        boolean early = random.nextInt(5) == 0;
        long delayMillis = early ? random.nextLong(150) : 5 + random.nextLong(300);
        long workloadSeed = random.nextLong();
        try (Child child = Child.start(dataDir, cycle * KEYS_PER_CHILD, workloadSeed, childErr)) {
            await("child startup").atMost(CHILD_TIMEOUT)
                    .until(() -> (early ? child.opening : child.ready) || !child.process.isAlive());
            Thread.sleep(delayMillis);
            assertThat(child.process.isAlive()).as("child still running before the kill (exit code %s)",
                    child.process.isAlive() ? "-" : child.process.exitValue()).isTrue();
            // SIGKILL through the process handle: Process.destroyForcibly would also close our end of
            // the child's stdout and lose the acknowledgements still in the pipe.
            child.process.toHandle().destroyForcibly();
            assertThat(child.process.waitFor(CHILD_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            child.reader.join(CHILD_TIMEOUT.toMillis());
            history.kills++;
            if (!child.ready) {
                history.earlyKills++;
            }
            history.tornLines += child.tornLines;
            record(child.lines, history);
        }
    }

    /**
     * Folds one child's output into the history. Acknowledgements come in strictly rising
     * revisions, above the store revision that the last check saw before this child started.
     */
    private static void record(List<String> lines, History history) {
        long lastRevision = history.lastRevision;
        for (String line : lines) {
            String[] f = line.split(" ", 3);
            switch (f[0]) {
                case "OPENING" -> { }
                case "READY" -> {
                    long counter = Long.parseLong(f[1]);
                    assertThat(counter).as("counter read by a child after catching up")
                            .isGreaterThanOrEqualTo(history.maxCasAcked).isLessThanOrEqualTo(history.maxCasSent);
                    history.redelivered += Long.parseLong(f[2]);
                }
                case "ACK" -> {
                    long n = Long.parseLong(f[1]);
                    long revision = Long.parseLong(f[2]);
                    assertThat(revision).as("revision of the ack of put %d", n).isGreaterThan(lastRevision);
                    lastRevision = revision;
                    assertThat(history.ackedPuts.put(n, revision)).as("put %d acknowledged twice", n).isNull();
                }
                case "CASSENT" -> {
                    history.casSent++;
                    history.maxCasSent = Math.max(history.maxCasSent, Long.parseLong(f[1]));
                }
                case "CAS" -> {
                    long value = Long.parseLong(f[1]);
                    long revision = Long.parseLong(f[2]);
                    assertThat(revision).as("revision of the ack of increment to %d", value).isGreaterThan(lastRevision);
                    lastRevision = revision;
                    history.casAcked++;
                    history.maxCasAcked = Math.max(history.maxCasAcked, value);
                }
                default -> fail("child reported: " + line);
            }
        }
    }

    // ------------------------------------------------------------------ checks

    /**
     * The data dir as a kill left it, before anything replays: the log reopens (a torn last write
     * is truncated, anything else fails), is contiguous, and the store is exactly the retained
     * log's puts up to the store's appliedIndex, which lies between the log's compaction point
     * and its durable commit index.
     */
    private static void checkDurableState(Path dataDir, History history) throws IOException {
        Path member = dataDir.resolve("member");
        Path pointer = member.resolve("kv.current");
        if (!Files.exists(member.resolve("wal")) || !Files.exists(pointer)) {
            assertThat(history.lastAppliedIndex).as("a data dir that held state lost its log or store").isZero();
            return;
        }
        HardState hardState;
        long firstIndex;
        long lastIndex;
        List<Entry> entries;
        try (SegmentedWal wal = SegmentedWal.open(member.resolve("wal"), DriverCrashChild.WAL_OPTIONS)) {
            hardState = wal.initialState().hardState();
            firstIndex = wal.firstIndex();
            lastIndex = wal.lastIndex();
            entries = lastIndex < firstIndex ? List.of() : wal.entries(firstIndex, lastIndex + 1, Long.MAX_VALUE);
        }
        assertThat(entries).as("log entries %d..%d", firstIndex, lastIndex).hasSize((int) (lastIndex - firstIndex + 1));
        for (int i = 0; i < entries.size(); i++) {
            assertThat(entries.get(i).index()).as("log entry %d", i).isEqualTo(firstIndex + i);
            if (i > 0) {
                assertThat(entries.get(i).term()).as("term of log entry %d", firstIndex + i)
                        .isGreaterThanOrEqualTo(entries.get(i - 1).term());
            }
        }
        assertThat(hardState.commit()).as("durable commit index vs last index").isLessThanOrEqualTo(lastIndex);
        Path kv = member.resolve(Files.readString(pointer).trim());
        try (KvStore store = RocksDbKvStore.open(kv, MvccOptions.defaults())) {
            long applied = store.appliedIndex();
            assertThat(applied).as("store appliedIndex vs the log's durable commit index %d", hardState.commit())
                    .isLessThanOrEqualTo(hardState.commit());
            assertThat(applied).as("store appliedIndex vs the log's first index %d (compacted past the store?)",
                    firstIndex).isGreaterThanOrEqualTo(firstIndex - 1);
            assertThat(applied).as("store appliedIndex never goes back").isGreaterThanOrEqualTo(history.lastAppliedIndex);
            assertThat(store.currentRevision()).as("store revision never goes back")
                    .isGreaterThanOrEqualTo(history.lastRevision);
            for (Entry e : entries) {
                if (e.type() != EntryType.NORMAL || e.data().length == 0) {
                    continue;
                }
                InternalRequest r = parse(e);
                if (!r.hasPut() || !r.getPut().getKey().toStringUtf8().startsWith(DriverCrashChild.KEY_PREFIX)) {
                    continue;
                }
                String key = r.getPut().getKey().toStringUtf8();
                List<KeyValue> kvs = store.range(RangeRequest.key(Bytes.of(key))).kvs();
                if (e.index() <= applied) {
                    assertThat(kvs).as("put of %s at log index %d <= appliedIndex %d", key, e.index(), applied)
                            .singleElement().satisfies(kvOf(key));
                } else {
                    assertThat(kvs).as("put of %s at log index %d > appliedIndex %d is not yet in the store",
                            key, e.index(), applied).isEmpty();
                }
            }
            history.lastAppliedIndex = applied;
            history.lastRevision = store.currentRevision();
        }
    }

    /**
     * Recovers the node in-process as the child does (driver, election, replay to the end of the
     * log), then checks the acknowledged writes and the exactly-once invariants.
     */
    private static void recoverAndCheck(Path dataDir, long seed, History history) throws Exception {
        List<String> violations = Collections.synchronizedList(new ArrayList<>());
        try (DriverCrashChild.Node node = DriverCrashChild.Node.open(dataDir, seed, violations::add)) {
            RaftDriver.Status status = node.driver().status();
            KvStore store = node.store();
            assertThat(node.members().snapshot()).as("member table").containsOnlyKeys(DriverCrashChild.MEMBER_ID);
            assertThat(status.appliedIndex()).as("applied after catch-up").isEqualTo(status.commitIndex())
                    .isEqualTo(store.appliedIndex());
            Map<Long, KeyValue> puts = new HashMap<>();
            for (KeyValue kv : node.putKeys()) {
                String key = kv.key().toStringUtf8();
                assertThat(kv).satisfies(kvOf(key));
                puts.put(DriverCrashChild.keyNumber(key), kv);
            }
            for (Map.Entry<Long, Long> ack : history.ackedPuts.entrySet()) {
                KeyValue kv = puts.get(ack.getKey());
                assertThat(kv).as("acknowledged put %d (revision %d)", ack.getKey(), ack.getValue()).isNotNull();
                assertThat(kv.modRevision()).as("revision of acknowledged put %d", ack.getKey())
                        .isEqualTo(ack.getValue());
            }
            Optional<KeyValue> counterKv = node.get(DriverCrashChild.COUNTER_KEY);
            long counter = counterKv.map(kv -> Long.parseLong(kv.value().toStringUtf8())).orElse(0L);
            assertThat(counterKv.map(KeyValue::version).orElse(0L)).as("counter version (one put per increment)")
                    .isEqualTo(counter);
            assertThat(counter).as("counter vs %d acknowledged increments (highest %d)", history.casAcked,
                    history.maxCasAcked).isGreaterThanOrEqualTo(Math.max(history.casAcked, history.maxCasAcked));
            assertThat(counter).as("counter vs %d proposed increments (highest %d)", history.casSent,
                    history.maxCasSent).isLessThanOrEqualTo(Math.min(history.casSent, history.maxCasSent));
            // Every write is a put of a fresh key or one increment, each creating one revision.
            assertThat(store.currentRevision()).as("store revision = 1 + %d keys + counter %d; more means a write "
                    + "applied twice", puts.size(), counter).isEqualTo(1 + puts.size() + counter);
            assertThat(store.appliedIndex()).as("appliedIndex never goes back")
                    .isGreaterThanOrEqualTo(history.lastAppliedIndex);
            assertThat(store.currentRevision()).as("revision never goes back")
                    .isGreaterThanOrEqualTo(history.lastRevision);
            history.lastAppliedIndex = store.appliedIndex();
            history.lastRevision = store.currentRevision();
            history.lastKeyCount = puts.size();
            history.lastCounter = counter;
            history.redelivered += node.redelivered();
            history.recoveries++;
        }
        assertThat(violations).as("apply contract").isEmpty();
    }

    /** A put key as written: the value of its number, put once (version 1, created at its mod revision). */
    private static java.util.function.Consumer<KeyValue> kvOf(String key) {
        long n = DriverCrashChild.keyNumber(key);
        return kv -> {
            assertThat(kv.value().toStringUtf8()).as("value of %s", key).isEqualTo(DriverCrashChild.value(n));
            assertThat(kv.version()).as("version of %s (more than 1: applied twice)", key).isEqualTo(1);
            assertThat(kv.createRevision()).as("create revision of %s", key).isEqualTo(kv.modRevision());
        };
    }

    private static InternalRequest parse(Entry e) {
        try {
            return InternalRequest.parseFrom(e.data());
        } catch (InvalidProtocolBufferException ex) {
            throw new AssertionError("log entry " + e.index() + " is not a request", ex);
        }
    }

    private static String tail(Path file) {
        try {
            if (!Files.exists(file)) {
                return "";
            }
            String s = Files.readString(file);
            return s.isEmpty() ? "" : "\nlast child stderr:\n" + s.substring(Math.max(0, s.length() - 4000));
        } catch (IOException e) {
            return "";
        }
    }

    // ------------------------------------------------------------------ plumbing

    /** What the children acknowledged and proposed, and what the last checks saw. */
    private static final class History {
        final Map<Long, Long> ackedPuts = new HashMap<>();
        long casSent;
        long casAcked;
        long maxCasSent;
        long maxCasAcked;
        int kills;
        int earlyKills;
        int recoveries;
        long redelivered;
        long tornLines;
        long lastAppliedIndex;
        long lastRevision;
        long lastKeyCount;
        long lastCounter;
    }

    /** A running child and the complete lines of its stdout, read by a thread until EOF. */
    private static final class Child implements AutoCloseable {
        final Process process;
        final Thread reader;
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());
        volatile boolean opening;
        volatile boolean ready;
        volatile int tornLines;

        private Child(Process process) {
            this.process = process;
            this.reader = new Thread(this::read, "driver-crash-child-stdout");
            this.reader.setDaemon(true);
            this.reader.start();
        }

        static Child start(Path dataDir, long firstKey, long seed, Path stderr) throws IOException {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                    "-XX:-UsePerfData", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                    DriverCrashChild.class.getName(), dataDir.toString(), Long.toString(firstKey), Long.toString(seed));
            pb.redirectError(ProcessBuilder.Redirect.to(stderr.toFile()));
            return new Child(pb.start());
        }

        /** Splits stdout into lines; an unterminated last fragment (cut by the kill) is dropped. */
        private void read() {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try (InputStream in = process.getInputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    for (int i = 0; i < n; i++) {
                        if (buf[i] != '\n') {
                            line.write(buf[i]);
                            continue;
                        }
                        String s = line.toString(StandardCharsets.UTF_8);
                        line.reset();
                        lines.add(s);
                        if (s.equals("OPENING")) {
                            opening = true;
                        } else if (s.startsWith("READY ")) {
                            ready = true;
                        }
                    }
                }
            } catch (IOException e) {
                // the stream was closed under us (close() after a failure): the lines so far stand
            }
            if (line.size() > 0) {
                tornLines++;
            }
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(CHILD_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }
}

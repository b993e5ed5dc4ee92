package io.raftkv.raft.bench;

import io.raftkv.raft.Config;
import io.raftkv.raft.MemoryStorage;
import io.raftkv.raft.Message;
import io.raftkv.raft.RaftNode;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The Raft core alone: 3 nodes, an in-memory network delivering messages in one thread, no
 * fsync. One operation is one committed (and applied on the leader) proposal of 16 bytes,
 * proposed in batches. Run with:
 *
 * <pre>
 * mvn -B -q -pl node/raft -am install -DskipTests
 * mvn -B -q -pl node/raft exec:exec -Dexec.executable=java -Dexec.classpathScope=test \
 *   -Dexec.args="-cp %classpath org.openjdk.jmh.Main RaftCoreBenchmark -prof gc"
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class RaftCoreBenchmark {
    private static final int BATCH = 1000;

    @Param({"1000"})
    public int batch;

    private final List<RaftNode> nodes = new ArrayList<>();
    private final List<MemoryStorage> storages = new ArrayList<>();
    private final ArrayDeque<Message> wire = new ArrayDeque<>();
    private RaftNode leader;
    private List<byte[]> payloads;

    @Setup(Level.Trial)
    public void setUp() {
        Set<Long> ids = Set.of(1L, 2L, 3L);
        for (long id = 1; id <= 3; id++) {
            MemoryStorage st = MemoryStorage.bootstrap(ids);
            storages.add(st);
            nodes.add(new RaftNode(Config.defaults(id, new SplittableRandom(id)), st, 0));
        }
        nodes.get(0).campaign();
        pump();
        leader = nodes.get(0);
        if (leader.role() != Role.LEADER) {
            throw new IllegalStateException("no leader after campaign");
        }
        payloads = new ArrayList<>();
        for (int i = 0; i < BATCH; i++) {
            payloads.add(new byte[16]);
        }
    }

    /** Proposes one batch and runs the cluster until the leader has applied all of it. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long proposeAndCommit() {
        long target = leader.lastIndex() + BATCH;
        leader.proposeBatch(payloads);
        pump();
        if (leader.appliedIndex() < target) {
            throw new IllegalStateException("batch not applied: " + leader.appliedIndex() + " < " + target);
        }
        for (int i = 0; i < nodes.size(); i++) {
            MemoryStorage st = storages.get(i);
            long applied = nodes.get(i).appliedIndex();
            if (applied - st.firstIndex() > 4 * BATCH) {
                st.createSnapshot(applied, nodes.get(i).confStateAt(applied), null);
                st.compact(applied);
            }
        }
        return leader.commitIndex();
    }

    private void pump() {
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int i = 0; i < nodes.size(); i++) {
                RaftNode n = nodes.get(i);
                while (n.hasReady()) {
                    progress = true;
                    Ready rd = n.ready();
                    MemoryStorage st = storages.get(i);
                    if (rd.snapshot() != null) {
                        st.applySnapshot(rd.snapshot());
                    }
                    st.append(rd.entries());
                    if (rd.hardState() != null) {
                        st.setHardState(rd.hardState());
                    }
                    wire.addAll(rd.messages());
                    n.advance(rd);
                }
            }
            while (!wire.isEmpty()) {
                progress = true;
                Message m = wire.poll();
                nodes.get((int) m.to() - 1).step(m);
            }
        }
    }

}

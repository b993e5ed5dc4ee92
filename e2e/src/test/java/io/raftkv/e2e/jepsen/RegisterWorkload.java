package io.raftkv.e2e.jepsen;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.raftkv.lincheck.Budget;
import io.raftkv.lincheck.CheckResult;
import io.raftkv.lincheck.LinearizabilityChecker;
import io.raftkv.lincheck.OpKind;
import io.raftkv.lincheck.Operation;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Registers under concurrent clients: GET (linearizable), PUT, and compare-and-set (a Txn comparing
 * the value, or version 0 for "absent", then putting) on a few keys at a time, each client sending
 * every request to a randomly chosen member. Every written value is unique. A request without an
 * answer is indeterminate (it may or may not have taken effect); an erroring write too, since an
 * error does not prove the proposal was not committed. After {@code opsPerKey} operations a key is
 * retired and a fresh one takes its place, so that each key's history stays small enough for the
 * search (Jepsen's "independent keys").
 *
 * <p>The check is {@link LinearizabilityChecker} on the whole history, split per key.
 */
final class RegisterWorkload implements Workload {
    private final int clients;
    private final int keys;
    private final int opsPerKey;
    private final long timeoutMs;
    private final boolean serializableReads;
    private final ClientThreads threads = new ClientThreads();
    private final ConcurrentLinkedQueue<Operation> ops = new ConcurrentLinkedQueue<>();
    private final AtomicLong[] perKeyCount;
    private final String prefix = "jr/" + Long.toHexString(System.nanoTime()) + "/";

    /**
     * @param clients   concurrent client threads
     * @param keys      keys written at the same time
     * @param opsPerKey operations on one key before it is retired
     * @param timeoutMs how long a client waits for an answer before the request is indeterminate
     */
    RegisterWorkload(int clients, int keys, int opsPerKey, long timeoutMs) {
        this(clients, keys, opsPerKey, timeoutMs, false);
    }

    /**
     * Like {@link #RegisterWorkload(int, int, int, long)}; with {@code serializableReads} the GETs
     * are etcd serializable reads (answered from the member's local state, documented as possibly
     * stale), which only the harness's self-check uses: it must then find violations.
     */
    RegisterWorkload(int clients, int keys, int opsPerKey, long timeoutMs, boolean serializableReads) {
        this.serializableReads = serializableReads;
        this.clients = clients;
        this.keys = keys;
        this.opsPerKey = opsPerKey;
        this.timeoutMs = timeoutMs;
        this.perKeyCount = new AtomicLong[keys];
        for (int i = 0; i < keys; i++) {
            perKeyCount[i] = new AtomicLong();
        }
    }

    @Override
    public String name() {
        return "register";
    }

    @Override
    public void start(JepsenCluster cluster, History history, long seed) {
        ClientState[] states = new ClientState[clients];
        for (int c = 0; c < clients; c++) {
            states[c] = new ClientState(new SplittableRandom(seed * 31 + c));
        }
        threads.start("register", clients, c -> step(cluster, history, c, states[c]));
    }

    /** What one client thread remembers: its random stream, the last value it saw per key, its write count. */
    private static final class ClientState {
        private final SplittableRandom rnd;
        private final Map<String, String> lastSeen = new HashMap<>();
        private long written;

        private ClientState(SplittableRandom rnd) {
            this.rnd = rnd;
        }
    }

    private void step(JepsenCluster cluster, History history, int client, ClientState state) {
        SplittableRandom rnd = state.rnd;
        Map<String, String> lastSeen = state.lastSeen;
        List<Integer> members = cluster.members();
        int slot = members.get(rnd.nextInt(members.size()));
        int k = rnd.nextInt(keys);
        String key = prefix + k + "/" + perKeyCount[k].getAndIncrement() / opsPerKey;
        KV kv = cluster.client(slot).getKVClient();
        ByteSequence keyBytes = bytes(key);
        double dice = rnd.nextDouble();
        long call = history.now();
        if (dice < 0.5) {
            try {
                GetResponse r = ClientThreads.await(serializableReads
                        ? kv.get(keyBytes, GetOption.builder().withSerializable(true).build()) : kv.get(keyBytes), timeoutMs);
                String value = r.getKvs().isEmpty() ? null : r.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8);
                lastSeen.put(key, value);
                record(history, Operation.get(client, key, value, call, afterCall(history, call)), "GET", History.Outcome.OK);
            } catch (ClientThreads.Failed f) {
                // a read without an answer constrains nothing: only its latency is kept
                history.sample(call, history.now(), "register GET", f.outcome());
                history.error("register GET", f.getMessage());
                ClientThreads.backOff(50);
            }
            return;
        }
        String value = "c" + client + "." + ++state.written;
        boolean cas = dice >= 0.75;
        String expected = cas ? lastSeen.get(key) : null;
        try {
            if (cas) {
                Cmp cmp = expected == null
                        ? new Cmp(keyBytes, Cmp.Op.EQUAL, CmpTarget.version(0))
                        : new Cmp(keyBytes, Cmp.Op.EQUAL, CmpTarget.value(bytes(expected)));
                TxnResponse r = ClientThreads.await(kv.txn().If(cmp)
                        .Then(Op.put(keyBytes, bytes(value), PutOption.DEFAULT)).commit(), timeoutMs);
                if (r.isSucceeded()) {
                    lastSeen.put(key, value);
                }
                record(history, Operation.cas(client, key, expected, value, r.isSucceeded(), call,
                        afterCall(history, call)), "CAS", History.Outcome.OK);
            } else {
                ClientThreads.await(kv.put(keyBytes, bytes(value)), timeoutMs);
                lastSeen.put(key, value);
                record(history, Operation.put(client, key, value, call, afterCall(history, call)), "PUT",
                        History.Outcome.OK);
            }
        } catch (ClientThreads.Failed f) {
            lastSeen.remove(key);
            String label = "register " + (cas ? "CAS" : "PUT");
            history.error(label, f.getMessage());
            if (f.neverSent()) {
                // connection refused: definitely not applied, so the checker need not consider it
                history.sample(call, history.now(), label, f.outcome());
            } else {
                Operation op = cas
                        ? Operation.cas(client, key, expected, value, false, call, Operation.INDETERMINATE)
                        : Operation.put(client, key, value, call, Operation.INDETERMINATE);
                ops.add(op);
                history.record(op, history.now(), label, f.outcome());
            }
            ClientThreads.backOff(50);
        }
    }

    /** A return time strictly after {@code call}, as {@link Operation} requires. */
    private static long afterCall(History history, long call) {
        return Math.max(call + 1, history.now());
    }

    private void record(History history, Operation op, String kind, History.Outcome outcome) {
        ops.add(op);
        history.record(op, op.ret(), "register " + kind, outcome);
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Override
    public void stop() throws InterruptedException {
        threads.stop();
    }

    /** The operations recorded so far (for tests and the report's history file). */
    List<Operation> operations() {
        return new ArrayList<>(ops);
    }

    @Override
    public Result check(JepsenCluster cluster, Duration budget) {
        return check(operations(), budget);
    }

    /**
     * Checks {@code history} for linearizability and summarises it; used by {@link #check} and by
     * tests. Each key gets an equal share of what is left of {@code budget} (at least one second), so
     * that one hard key cannot leave every other key undecided; the first illegal key ends the check.
     */
    static Result check(List<Operation> history, Duration budget) {
        long indeterminate = history.stream().filter(Operation::indeterminate).count();
        Map<String, List<Operation>> byKey = new java.util.TreeMap<>();
        history.forEach(o -> byKey.computeIfAbsent(o.key(), k -> new ArrayList<>()).add(o));
        Map<OpKind, Long> byKind = new java.util.EnumMap<>(OpKind.class);
        history.forEach(o -> byKind.merge(o.kind(), 1L, Long::sum));
        long started = System.nanoTime();
        long deadline = started + budget.toNanos();
        List<String> undecided = new ArrayList<>();
        CheckResult illegal = null;
        int left = byKey.size();
        for (Map.Entry<String, List<Operation>> key : byKey.entrySet()) {
            long share = Math.max(1_000_000_000L, (deadline - System.nanoTime()) / left--);
            CheckResult r = LinearizabilityChecker.check(key.getValue(), Budget.ofTimeout(Duration.ofNanos(share)));
            if (r.isIllegal()) {
                illegal = r;
                break;
            }
            if (r.verdict() == CheckResult.Verdict.UNKNOWN) {
                undecided.add(key.getKey() + " (" + key.getValue().size() + " ops)");
            }
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        String counts = history.size() + " operations " + byKind + " on " + byKey.size() + " keys, " + indeterminate
                + " indeterminate; checked in " + ms + " ms: ";
        if (illegal != null) {
            return new Result("register", Verdict.FAIL, counts + "NOT linearizable on key " + illegal.key(),
                    List.of(illegal.describe().split("\n")));
        }
        if (!undecided.isEmpty()) {
            return new Result("register", Verdict.UNKNOWN, counts + "no violation found, but " + undecided.size()
                    + " keys were not decided within the budget", undecided);
        }
        return new Result("register", Verdict.PASS, counts + "linearizable", List.of());
    }
}

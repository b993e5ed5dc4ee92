package io.raftkv.e2e.jepsen;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every acknowledged write survives: clients put fresh keys (each key written once) through random
 * members, remembering the ones the server acknowledged. At the end, with the cluster healed, a
 * linearizable range read through <em>each</em> member must list every acknowledged key; a missing
 * one is a lost write (Raft §5.4: a committed entry is present in every later leader's log).
 */
final class DurabilityWorkload implements Workload {
    private final int clients;
    private final long timeoutMs;
    private final ClientThreads threads = new ClientThreads();
    private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    private final AtomicLong attempted = new AtomicLong();
    private final String prefix = "jd/" + Long.toHexString(System.nanoTime()) + "/";

    /**
     * @param clients   concurrent writer threads
     * @param timeoutMs how long a writer waits for an acknowledgement
     */
    DurabilityWorkload(int clients, long timeoutMs) {
        this.clients = clients;
        this.timeoutMs = timeoutMs;
    }

    @Override
    public String name() {
        return "durability";
    }

    @Override
    public void start(JepsenCluster cluster, History history, long seed) {
        SplittableRandom[] rngs = new SplittableRandom[clients];
        long[] written = new long[clients];
        for (int c = 0; c < clients; c++) {
            rngs[c] = new SplittableRandom(seed * 17 + c);
        }
        threads.start("durability", clients, c -> {
            List<Integer> members = cluster.members();
            int slot = members.get(rngs[c].nextInt(members.size()));
            String key = prefix + c + "/" + written[c]++;
            attempted.incrementAndGet();
            long call = history.now();
            try {
                ClientThreads.await(cluster.client(slot).getKVClient().put(bytes(key), bytes("d")), timeoutMs);
                acknowledged.add(key);
                history.sample(call, history.now(), "durability PUT", History.Outcome.OK);
            } catch (ClientThreads.Failed f) {
                history.sample(call, history.now(), "durability PUT", f.outcome());
                history.error("durability PUT", f.getMessage());
                ClientThreads.backOff(50);
            }
        });
    }

    @Override
    public void stop() throws InterruptedException {
        threads.stop();
    }

    @Override
    public Result check(JepsenCluster cluster, Duration budget) throws Exception {
        List<String> details = new ArrayList<>();
        Set<String> lostAnywhere = new TreeSet<>();
        long deadline = System.nanoTime() + budget.toNanos();
        for (int slot : cluster.members()) {
            Set<String> present = readAll(cluster, slot, deadline);
            if (present == null) {
                details.add(cluster.name(slot) + ": no answer to a linearizable range read within the check's " + budget);
                continue;
            }
            Set<String> lost = lost(acknowledged, present);
            if (!lost.isEmpty()) {
                lostAnywhere.addAll(lost);
                details.add(cluster.name(slot) + " lacks " + lost.size() + " acknowledged keys, e.g. "
                        + lost.stream().limit(10).toList());
            }
        }
        String summary = attempted.get() + " puts, " + acknowledged.size() + " acknowledged, "
                + lostAnywhere.size() + " acknowledged writes missing";
        Verdict verdict = !lostAnywhere.isEmpty() ? Verdict.FAIL : details.isEmpty() ? Verdict.PASS : Verdict.UNKNOWN;
        return new Result(name(), verdict, summary, details);
    }

    /** The acknowledged keys not in {@code present}, sorted. */
    static Set<String> lost(Set<String> acknowledged, Set<String> present) {
        Set<String> lost = new TreeSet<>(acknowledged);
        lost.removeAll(present);
        return lost;
    }

    /**
     * This workload's keys as a linearizable read through {@code slot} sees them, retrying until
     * {@code deadline} ({@link System#nanoTime()}; one try at least); null if it never answers.
     */
    private Set<String> readAll(JepsenCluster cluster, int slot, long deadline) {
        for (boolean first = true; first || System.nanoTime() < deadline; first = false) {
            try {
                GetResponse r = ClientThreads.await(cluster.client(slot).getKVClient().get(bytes(prefix),
                        GetOption.builder().isPrefix(true).withKeysOnly(true).build()), 10_000);
                Set<String> keys = new TreeSet<>();
                r.getKvs().forEach(kv -> keys.add(kv.getKey().toString(StandardCharsets.UTF_8)));
                return keys;
            } catch (ClientThreads.Failed f) {
                ClientThreads.backOff(500);
            }
        }
        return null;
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }
}

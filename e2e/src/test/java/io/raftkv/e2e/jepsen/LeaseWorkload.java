package io.raftkv.e2e.jepsen;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.lease.LeaseGrantResponse;
import io.etcd.jetcd.options.PutOption;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keys disappear only after their lease expires or is revoked. Each client grants a lease, puts a
 * key attached to it, revokes the lease half of the time, and polls the key with linearizable reads
 * until it is gone. Two rules, both on the one monotonic clock of the test JVM, which the servers
 * share (same machine):
 * <ul>
 *   <li>a read that returned "absent" before grant-call + granted TTL, with no revoke sent before it
 *       returned, saw the key vanish early (etcd: a lease's keys are deleted when it expires, and it
 *       never expires before its TTL; a new leader only extends TTLs);</li>
 *   <li>a read sent after a revoke was acknowledged that still finds the key saw a revoked lease's
 *       key survive (etcd: LeaseRevoke deletes the attached keys).</li>
 * </ul>
 * Late expiry is allowed (faults delay it) and is not a violation.
 */
final class LeaseWorkload implements Workload {
    private final int clients;
    private final long ttlSeconds;
    private final long timeoutMs;
    private final ClientThreads threads = new ClientThreads();
    private final String prefix = "jl/" + Long.toHexString(System.nanoTime()) + "/";
    private final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    private final AtomicLong leases = new AtomicLong();
    private final AtomicLong revoked = new AtomicLong();
    private final AtomicLong expired = new AtomicLong();
    private volatile String skipped;

    LeaseWorkload(int clients, long ttlSeconds, long timeoutMs) {
        this.clients = clients;
        this.ttlSeconds = ttlSeconds;
        this.timeoutMs = timeoutMs;
    }

    @Override
    public String name() {
        return "lease";
    }

    @Override
    public void start(JepsenCluster cluster, History history, long seed) {
        SplittableRandom[] rngs = new SplittableRandom[clients];
        long[] counters = new long[clients];
        for (int c = 0; c < clients; c++) {
            rngs[c] = new SplittableRandom(seed * 7 + c);
        }
        threads.start("lease", clients, c -> oneLease(cluster, history, rngs[c], c + "/" + counters[c]++));
    }

    private void oneLease(JepsenCluster cluster, History history, SplittableRandom rnd, String name) {
        if (skipped != null) {
            ClientThreads.backOff(500);
            return;
        }
        List<Integer> members = cluster.members();
        int slot = members.get(rnd.nextInt(members.size()));
        String key = prefix + name;
        long grantCall = history.now();
        LeaseGrantResponse grant;
        try {
            grant = ClientThreads.await(cluster.client(slot).getLeaseClient().grant(ttlSeconds), timeoutMs);
            history.sample(grantCall, history.now(), "lease GRANT", History.Outcome.OK);
            ClientThreads.await(cluster.client(slot).getKVClient().put(bytes(key), bytes("l"),
                    PutOption.builder().withLeaseId(grant.getID()).build()), timeoutMs);
        } catch (ClientThreads.Failed f) {
            Unimplemented.message(f).ifPresent(m -> skipped = "the server does not serve Lease: " + m);
            history.sample(grantCall, history.now(), "lease GRANT", f.outcome());
            ClientThreads.backOff(100);
            return;
        }
        leases.incrementAndGet();
        long earliestExpiry = grantCall + grant.getTTL() * 1_000_000_000L;
        boolean revoke = rnd.nextBoolean();
        long revokeSent = Long.MAX_VALUE;
        long revokeAcked = Long.MAX_VALUE;
        long giveUp = history.now() + (grant.getTTL() + 20) * 1_000_000_000L;
        while (!threads.stopped() && history.now() < giveUp) {
            if (revoke && revokeSent == Long.MAX_VALUE && history.now() > grantCall + grant.getTTL() * 300_000_000L) {
                revokeSent = history.now();
                try {
                    ClientThreads.await(cluster.client(slot).getLeaseClient().revoke(grant.getID()), timeoutMs);
                    revokeAcked = history.now();
                    revoked.incrementAndGet();
                } catch (ClientThreads.Failed f) {
                    // outcome unknown: the key may vanish any time from now on
                }
            }
            long call = history.now();
            try {
                GetResponse r = ClientThreads.await(cluster.client(members.get(rnd.nextInt(members.size())))
                        .getKVClient().get(bytes(key)), timeoutMs);
                long ret = history.now();
                boolean present = r.getCount() > 0;
                if (!present && ret < earliestExpiry && ret < revokeSent) {
                    violations.add(key + " absent at " + ms(ret) + " ms, before its lease (TTL " + grant.getTTL()
                            + " s, granted from " + ms(grantCall) + " ms) could expire, with no revoke sent");
                }
                if (present && call > revokeAcked) {
                    violations.add(key + " present at " + ms(call) + " ms, after its lease's revoke was acknowledged at "
                            + ms(revokeAcked) + " ms");
                }
                if (!present) {
                    if (revokeSent == Long.MAX_VALUE) {
                        expired.incrementAndGet();
                    }
                    return;
                }
            } catch (ClientThreads.Failed f) {
                // no answer: nothing observed
            }
            ClientThreads.backOff(250);
        }
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    @Override
    public void stop() throws InterruptedException {
        threads.stop();
    }

    @Override
    public Result check(JepsenCluster cluster, Duration budget) {
        if (skipped != null) {
            return new Result(name(), Verdict.SKIPPED, skipped, List.of());
        }
        List<String> details = new ArrayList<>(violations.stream().limit(20).toList());
        String summary = leases.get() + " leases with a key, " + revoked.get() + " revoked, " + expired.get()
                + " seen to expire, " + violations.size() + " violations";
        return new Result(name(), violations.isEmpty() ? Verdict.PASS : Verdict.FAIL, summary, details);
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }
}

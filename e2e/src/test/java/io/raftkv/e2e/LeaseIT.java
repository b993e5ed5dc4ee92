package io.raftkv.e2e;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.lease.LeaseTimeToLiveResponse;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Leases on real raftkv processes, driven by jetcd: expiry decided by the leader, keep-alives
 * through a follower, and leases surviving a leader kill, a 2 s SIGSTOP of the leader and a
 * restart of the whole cluster. raftkv runs with its defaults: election timeout 150-300 ms, so
 * a lease may outlive its TTL by at most 300 ms plus the revoke's commit; the upper bounds below
 * add slack for this shared, loaded machine, the lower bounds add none.
 */
class LeaseIT {
    private static final long ELECTION_TIMEOUT_MILLIS = 300;
    /** Time for the lessor's 100 ms look, the revoke's commit and the test's poll, on a loaded machine. */
    private static final long SLACK_MILLIS = 2000;

    private static ByteSequence bs(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    private static Client clientOf(LocalCluster c, int... members) {
        List<String> urls = new ArrayList<>();
        for (int m : members) {
            urls.add(c.clientUrl(m));
        }
        return Client.builder().endpoints(urls.toArray(String[]::new)).build();
    }

    private static int follower(LocalCluster c, int leader, int nth) {
        int seen = 0;
        for (int i = 0; i < c.size(); i++) {
            if (i != leader && seen++ == nth) {
                return i;
            }
        }
        throw new IllegalStateException("no follower " + nth);
    }

    /** The Raft term of the member that answers a read through {@code kv}. */
    private static long term(KV kv) throws Exception {
        return kv.get(bs("term-probe")).get(10, TimeUnit.SECONDS).getHeader().getRaftTerm();
    }

    private static boolean present(KV kv, String key) throws Exception {
        return kv.get(bs(key)).get(10, TimeUnit.SECONDS).getCount() == 1;
    }

    /**
     * Sends one keep-alive every {@code periodMillis} on a fresh LeaseKeepAlive stream with a 1 s
     * deadline, to the given members in turn (the next one after a failure). Raw gRPC rather than
     * jetcd's keepAliveOnce, which keeps resending in the background after a caller gives up, so
     * that "the last keep-alive sent" is a fact the expiry bounds can rely on.
     */
    private static final class KeepAliver implements AutoCloseable {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong lastSentNanos = new AtomicLong();
        private final AtomicLong lastAckedSentNanos = new AtomicLong();
        private final AtomicLong acked = new AtomicLong();
        private final List<ManagedChannel> channels = new ArrayList<>();
        private final Thread thread;

        KeepAliver(LocalCluster c, long id, long periodMillis, int... members) {
            for (int m : members) {
                URI u = URI.create(c.clientUrl(m));
                channels.add(NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext().build());
            }
            thread = new Thread(() -> {
                int next = 0;
                while (running.get()) {
                    long sent = System.nanoTime();
                    lastSentNanos.set(sent);
                    if (keepAliveOnce(channels.get(next % channels.size()), id) > 0) {
                        lastAckedSentNanos.set(sent);
                        acked.incrementAndGet();
                    } else {
                        next++;
                    }
                    try {
                        Thread.sleep(periodMillis);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "it-keepalive");
            thread.setDaemon(true);
            thread.start();
        }

        /** One keep-alive; the TTL answered, or -1 on any failure (the call is cancelled by then). */
        private static long keepAliveOnce(ManagedChannel ch, long id) {
            CompletableFuture<Long> ttl = new CompletableFuture<>();
            StreamObserver<LeaseKeepAliveRequest> stream = LeaseGrpc.newStub(ch).withDeadlineAfter(1, TimeUnit.SECONDS)
                    .leaseKeepAlive(new StreamObserver<>() {
                        @Override
                        public void onNext(LeaseKeepAliveResponse r) {
                            ttl.complete(r.getTTL());
                        }

                        @Override
                        public void onError(Throwable t) {
                            ttl.complete(-1L);
                        }

                        @Override
                        public void onCompleted() {
                            ttl.complete(-1L);
                        }
                    });
            stream.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
            stream.onCompleted();
            try {
                return ttl.get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                return -1;
            }
        }

        /**
         * Stops sending. Returns when the last acknowledged keep-alive was sent (the server renewed
         * after that, so the lease lives at least TTL from then) and when the last one was sent
         * at all (the latest renewal the server may have made), as System.nanoTime values.
         */
        long[] stop() throws InterruptedException {
            running.set(false);
            thread.interrupt();
            thread.join(5000);
            channels.forEach(ManagedChannel::shutdownNow);
            return new long[] {lastAckedSentNanos.get(), lastSentNanos.get()};
        }

        long acked() {
            return acked.get();
        }

        @Override
        public void close() throws InterruptedException {
            stop();
        }
    }

    /**
     * Asserts that {@code key} stays readable for {@code millis} (polled from every member in turn
     * through {@code kv}).
     */
    private static void assertStaysFor(KV kv, String key, long millis) throws Exception {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < end) {
            assertThat(present(kv, key)).as("key %s attached to a live lease", key).isTrue();
            Thread.sleep(100);
        }
    }

    /**
     * After the last keep-alive, the key must be readable until TTL has passed (a read that
     * completed earlier saw it), and gone within TTL + an election timeout (+ slack). A leader
     * elected after the keep-alives stopped resumes the lease from its last checkpoint (the full
     * TTL for a lease shorter than the checkpoint interval, as in etcd), so when a read shows a
     * term above {@code termAtStop} the bound also runs from when that term was first seen.
     */
    private static void assertExpiresInWindow(LocalCluster c, Lease lease, long id, KV kv, String key,
                                              long[] keepAlives, long termAtStop, long ttlSeconds) throws Exception {
        long window = TimeUnit.SECONDS.toNanos(ttlSeconds) + TimeUnit.MILLISECONDS.toNanos(ELECTION_TIMEOUT_MILLIS + SLACK_MILLIS);
        long earliest = keepAlives[0] + TimeUnit.SECONDS.toNanos(ttlSeconds);
        long latest = keepAlives[1] + window;
        long term = termAtStop;
        while (true) {
            var read = kv.get(bs(key)).get(10, TimeUnit.SECONDS);
            boolean there = read.getCount() == 1;
            long answered = System.nanoTime();
            if (read.getHeader().getRaftTerm() > term) {
                term = read.getHeader().getRaftTerm();
                latest = Math.max(latest, answered + window);
                System.out.printf("leader changed after the keep-alives stopped (term %d -> %d)%n", termAtStop, term);
            }
            if (!there) {
                assertThat(answered).as("gone %d ms before the TTL ran out", (earliest - answered) / 1_000_000)
                        .isGreaterThanOrEqualTo(earliest);
                System.out.printf("lease key %s gone %d ms after its TTL ran out (last acknowledged keep-alive"
                        + " sent + TTL)%n", key, (answered - earliest) / 1_000_000);
                return;
            }
            if (answered >= latest) {
                long remaining = lease.timeToLive(id, LeaseOption.DEFAULT).get(10, TimeUnit.SECONDS).getTTL();
                throw new AssertionError("key " + key + " still there " + (answered - latest) / 1_000_000
                        + " ms after TTL + election timeout + slack; the leader says " + remaining
                        + " s remain; acknowledged keep-alive sent " + (answered - keepAlives[0]) / 1_000_000
                        + " ms ago, last sent " + (answered - keepAlives[1]) / 1_000_000 + " ms ago; term " + term
                        + " (at stop " + termAtStop + ")\n" + c.logs());
            }
            Thread.sleep(20);
        }
    }

    @Test
    void keepAliveThroughAFollowerKeepsTheLeaseAndTheKeyGoesWithinTtlAfterItStops() throws Exception {
        try (LocalCluster c = LocalCluster.start(LocalCluster.Kind.RAFTKV, 3)) {
            int leader = await().atMost(Duration.ofSeconds(30)).until(c::leaderIndex, i -> i >= 0);
            int follower = follower(c, leader, 0);
            try (Client viaFollower = clientOf(c, follower)) {
                Lease lease = viaFollower.getLeaseClient();
                KV kv = viaFollower.getKVClient();
                long ttl = 3;
                long id = lease.grant(ttl).get(10, TimeUnit.SECONDS).getID();
                kv.put(bs("lk"), bs("v"), PutOption.builder().withLeaseId(id).build()).get(10, TimeUnit.SECONDS);
                // a second lease kept alive by jetcd's own keep-alive stream, through the same follower
                long jid = lease.grant(ttl).get(10, TimeUnit.SECONDS).getID();
                kv.put(bs("jk"), bs("v"), PutOption.builder().withLeaseId(jid).build()).get(10, TimeUnit.SECONDS);
                AtomicLong jetcdAcks = new AtomicLong();
                long[] last;
                long termAtStop;
                try (KeepAliver k = new KeepAliver(c, id, 500, follower);
                     io.etcd.jetcd.support.CloseableClient ka = lease.keepAlive(jid, new StreamObserver<>() {
                         @Override
                         public void onNext(io.etcd.jetcd.lease.LeaseKeepAliveResponse r) {
                             if (r.getTTL() > 0) {
                                 jetcdAcks.incrementAndGet();
                             }
                         }

                         @Override
                         public void onError(Throwable t) {
                         }

                         @Override
                         public void onCompleted() {
                         }
                     })) {
                    assertStaysFor(kv, "lk", 3 * ttl * 1000);
                    assertThat(present(kv, "jk")).isTrue();
                    termAtStop = term(kv);
                    last = k.stop();
                    assertThat(k.acked()).isGreaterThan(5);
                    assertThat(jetcdAcks.get()).isGreaterThan(2);
                }
                LeaseTimeToLiveResponse t = lease.timeToLive(id, LeaseOption.builder().withAttachedKeys().build())
                        .get(10, TimeUnit.SECONDS);
                assertThat(t.getGrantedTTL()).isEqualTo(ttl);
                assertThat(t.getKeys()).containsExactly(bs("lk"));
                assertExpiresInWindow(c, lease, id, kv, "lk", last, termAtStop, ttl);
                assertThat(lease.timeToLive(id, LeaseOption.DEFAULT).get(10, TimeUnit.SECONDS).getTTL()).isEqualTo(-1);
                await().atMost(Duration.ofSeconds(ttl + 10)).until(() -> !present(kv, "jk"));
            }
        }
    }

    @Test
    void revokeDeletesEveryAttachedKeyInOneRevision() throws Exception {
        try (LocalCluster c = LocalCluster.start(LocalCluster.Kind.RAFTKV, 3);
             Client client = clientOf(c, 0, 1, 2)) {
            Lease lease = client.getLeaseClient();
            KV kv = client.getKVClient();
            long id = lease.grant(60).get(10, TimeUnit.SECONDS).getID();
            long other = lease.grant(60).get(10, TimeUnit.SECONDS).getID();
            for (String k : List.of("a", "b", "c")) {
                kv.put(bs(k), bs("v"), PutOption.builder().withLeaseId(id).build()).get(10, TimeUnit.SECONDS);
            }
            // re-putting with another lease moves the key
            kv.put(bs("c"), bs("v2"), PutOption.builder().withLeaseId(other).build()).get(10, TimeUnit.SECONDS);
            long before = kv.get(bs("a")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
            long revokedAt = lease.revoke(id).get(10, TimeUnit.SECONDS).getHeader().getRevision();
            assertThat(revokedAt).isEqualTo(before + 1);
            assertThat(present(kv, "a")).isFalse();
            assertThat(present(kv, "b")).isFalse();
            assertThat(present(kv, "c")).isTrue();
            assertThat(kv.get(bs("a"), io.etcd.jetcd.options.GetOption.builder().withRevision(before).build())
                    .get(10, TimeUnit.SECONDS).getCount()).isEqualTo(1);
        }
    }

    @Test
    void killingTheLeaderDoesNotRevokeLiveLeases() throws Exception {
        try (LocalCluster c = LocalCluster.start(LocalCluster.Kind.RAFTKV, 3)) {
            int leader = await().atMost(Duration.ofSeconds(30)).until(c::leaderIndex, i -> i >= 0);
            int f0 = follower(c, leader, 0);
            int f1 = follower(c, leader, 1);
            try (Client client = clientOf(c, f0, f1)) {
                Lease lease = client.getLeaseClient();
                KV kv = client.getKVClient();
                long ttl = 4;
                long id = lease.grant(ttl).get(10, TimeUnit.SECONDS).getID();
                kv.put(bs("live"), bs("v"), PutOption.builder().withLeaseId(id).build()).get(10, TimeUnit.SECONDS);
                long idle = lease.grant(ttl).get(10, TimeUnit.SECONDS).getID();
                kv.put(bs("idle"), bs("v"), PutOption.builder().withLeaseId(idle).build()).get(10, TimeUnit.SECONDS);
                try (KeepAliver k = new KeepAliver(c, id, 500, f0, f1)) {
                    assertStaysFor(kv, "live", 1500);
                    c.kill(leader);
                    assertStaysFor(kv, "live", 3 * ttl * 1000);
                    assertThat(present(kv, "idle")).as("the lease nobody kept alive expires").isFalse();
                    long termAtStop = term(kv);
                    long[] last = k.stop();
                    assertExpiresInWindow(c, lease, id, kv, "live", last, termAtStop, ttl);
                }
            }
        }
    }

    @Test
    void pausingTheLeaderForTwoSecondsDoesNotRevokeLiveLeases() throws Exception {
        try (LocalCluster c = LocalCluster.start(LocalCluster.Kind.RAFTKV, 3)) {
            int leader = await().atMost(Duration.ofSeconds(30)).until(c::leaderIndex, i -> i >= 0);
            int f0 = follower(c, leader, 0);
            int f1 = follower(c, leader, 1);
            try (Client client = clientOf(c, f0, f1);
                 Client all = clientOf(c, 0, 1, 2)) {
                Lease lease = client.getLeaseClient();
                KV kv = client.getKVClient();
                long ttl = 4;
                List<Long> ids = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    long id = lease.grant(ttl).get(10, TimeUnit.SECONDS).getID();
                    ids.add(id);
                    kv.put(bs("p" + i), bs("v"), PutOption.builder().withLeaseId(id).build()).get(10, TimeUnit.SECONDS);
                }
                List<KeepAliver> keepers = new ArrayList<>();
                try {
                    for (long id : ids) {
                        keepers.add(new KeepAliver(c, id, 500, f0, f1));
                    }
                    assertStaysFor(kv, "p0", 1000);
                    c.pause(leader);
                    Thread.sleep(2000);
                    c.resume(leader);
                    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2 * ttl);
                    while (System.nanoTime() < end) {
                        for (int i = 0; i < ids.size(); i++) {
                            assertThat(present(all.getKVClient(), "p" + i)).as("key p%d", i).isTrue();
                        }
                        Thread.sleep(100);
                    }
                } finally {
                    c.resume(leader);
                    for (KeepAliver k : keepers) {
                        k.close();
                    }
                }
                c.awaitHealthy(Duration.ofSeconds(30));
                await().atMost(Duration.ofSeconds(ttl + 10)).until(() -> !present(kv, "p0") && !present(kv, "p19"));
            }
        }
    }

    @Test
    void timeToLiveAfterAWholeClusterRestartShowsTheRemainingTtl() throws Exception {
        try (LocalCluster c = LocalCluster.start(LocalCluster.Kind.RAFTKV, 3)) {
            long ttl = 60;
            long id;
            long granted;
            try (Client client = clientOf(c, 0, 1, 2)) {
                id = client.getLeaseClient().grant(ttl).get(10, TimeUnit.SECONDS).getID();
                granted = System.nanoTime();
                client.getKVClient().put(bs("r"), bs("v"), PutOption.builder().withLeaseId(id).build())
                        .get(10, TimeUnit.SECONDS);
            }
            Thread.sleep(12_000); // two checkpoint intervals
            for (int i = 0; i < c.size(); i++) {
                c.kill(i);
            }
            for (int i = 0; i < c.size(); i++) {
                c.startMember(i);
            }
            c.awaitHealthy(Duration.ofSeconds(60));
            try (Client client = clientOf(c, 0, 1, 2)) {
                LeaseTimeToLiveResponse t = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                        .until(() -> client.getLeaseClient().timeToLive(id, LeaseOption.builder().withAttachedKeys().build())
                                .get(5, TimeUnit.SECONDS), r -> r.getTTL() > 0);
                long elapsed = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - granted);
                System.out.printf("after a whole-cluster restart, %d s after a 60 s grant: TTL %d s remaining%n",
                        elapsed, t.getTTL());
                assertThat(t.getGrantedTTL()).isEqualTo(ttl);
                assertThat(t.getKeys()).containsExactly(bs("r"));
                // At least the checkpoint taken 5 s after the grant is in the log (a leader change
                // restarts the 5 s schedule, so the one at 10 s may be missing); time while the
                // cluster was down does not count, but the TTL shown is never below what truly remains.
                assertThat(t.getTTL()).as("remaining TTL after restart, %d s after the grant", elapsed)
                        .isLessThanOrEqualTo(ttl - 5).isGreaterThanOrEqualTo(ttl - elapsed);
            }
        }
    }
}

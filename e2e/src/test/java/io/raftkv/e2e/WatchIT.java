package io.raftkv.e2e;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * etcd's Watch against real raftkv processes and real clients: etcdctl's printed output compared
 * with a real etcd 3.4's, jetcd watching one member while another takes the writes, a thousand
 * watchers that keep up while one client stops reading (event latency percentiles are printed),
 * and a watcher that loses its member (the leader, SIGKILL) and resumes on another from its last
 * revision + 1 with no gap and no duplicate.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WatchIT {

    private LocalCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = LocalCluster.start(LocalCluster.Kind.RAFTKV, 3);
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static ByteSequence bs(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    private static String str(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    /** One event as a comparable line: type, key, value, mod revision, prev value if any. */
    private static String line(WatchEvent e) {
        return e.getEventType() + " " + str(e.getKeyValue().getKey()) + "=" + str(e.getKeyValue().getValue())
                + "@" + e.getKeyValue().getModRevision()
                + (e.getPrevKV() != null && e.getPrevKV().getModRevision() != 0
                        ? " prev=" + str(e.getPrevKV().getValue()) : "");
    }

    // ------------------------------------------------------------------ etcdctl vs etcd

    private static final String[][] HISTORY = {
        {"put", "w/a", "1"}, {"put", "w/b", "2"}, {"put", "w/a", "3"}, {"del", "w/a"}, {"put", "w/c", "4"},
    };

    @Test
    @Order(1)
    void etcdctlWatchPrintsWhatEtcdPrints() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(EtcdctlCompatibilityIT.onPath("etcd"), "etcd not installed");
        try (LocalCluster etcd = LocalCluster.start(LocalCluster.Kind.ETCD, 1)) {
            List<String> mismatches = new ArrayList<>();
            for (LocalCluster c : List.of(etcd, cluster)) {
                for (String[] cmd : HISTORY) {
                    assertThat(c.etcdctl(cmd).exitCode()).isZero();
                }
            }
            String txn = "\nput w/x 5\nput w/y 6\n\n\n";
            assertThat(etcd.etcdctlAt(etcd.endpoints(), txn, "txn").exitCode()).isZero();
            assertThat(cluster.etcdctlAt(cluster.endpoints(), txn, "txn").exitCode()).isZero();
            List<String[]> watches = List.of(
                    new String[] {"watch", "--prefix", "w/", "--rev=2"},
                    new String[] {"watch", "--prefix", "w/", "--rev=2", "--prev-kv"},
                    new String[] {"watch", "w/a", "--rev=2", "-w", "json"},
                    new String[] {"watch", "w/a", "w/c", "--rev=3"},
                    new String[] {"watch", "--rev=2", "--prefix", ""});
            for (String[] w : watches) {
                String want = watchFor(etcd, w);
                String got = watchFor(cluster, w);
                if (!want.equals(got)) {
                    mismatches.add("etcdctl " + String.join(" ", w) + "\n  etcd:   " + want.replace("\n", "\\n")
                            + "\n  raftkv: " + got.replace("\n", "\\n"));
                }
            }
            assertThat(etcd.etcdctl("compaction", "4").exitCode()).isZero();
            assertThat(cluster.etcdctl("compaction", "4").exitCode()).isZero();
            String[] compacted = {"watch", "--prefix", "w/", "--rev=2"};
            String want = watchFor(etcd, compacted);
            String got = watchFor(cluster, compacted);
            if (!want.equals(got)) {
                mismatches.add("compacted: etcd:   " + want.replace("\n", "\\n") + "\n  raftkv: " + got.replace("\n", "\\n"));
            }
            System.out.println("[WatchIT] etcdctl watch --prefix w/ --rev=2 --prev-kv on raftkv:\n"
                    + watchFor(cluster, new String[] {"watch", "--prefix", "w/", "--rev=5", "--prev-kv"}));
            assertThat(mismatches).as("etcdctl watch output that differs from etcd's\n" + cluster.logs()).isEmpty();
        }
    }

    /** Runs etcdctl watch for a few seconds (history is replayed at once) and returns its output. */
    private static String watchFor(LocalCluster c, String[] args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("timeout", "-s", "INT", "4"));
        cmd.addAll(List.of("etcdctl", "--endpoints=" + c.endpoints().split(",")[0]));
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("ETCDCTL_API", "3");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return EtcdctlCompatibilityIT.normalize(new LocalCluster.Result(p.exitValue(), out, err))
                + "\nstderr=" + err.strip();
    }

    // ------------------------------------------------------------------ jetcd, two members

    @Test
    @Order(2)
    void jetcdWatcherOnOneMemberSeesEveryWriteMadeThroughAnotherInOrder() throws Exception {
        String[] endpoints = cluster.endpoints().split(",");
        int leader = await().atMost(Duration.ofSeconds(60)).until(cluster::leaderIndex, l -> l >= 0);
        int follower = (leader + 1) % 3;
        int writer = (leader + 2) % 3;
        try (Client watching = Client.builder().endpoints(endpoints[follower]).build();
             Client writing = Client.builder().endpoints(endpoints[writer]).build()) {
            List<String> seen = new CopyOnWriteArrayList<>();
            List<String> seenNoPut = new CopyOnWriteArrayList<>();
            AtomicInteger responses = new AtomicInteger();
            AtomicInteger created = new AtomicInteger();
            List<Long> progress = new CopyOnWriteArrayList<>();
            Watch.Watcher w1 = watching.getWatchClient().watch(bs("j/"),
                    WatchOption.builder().isPrefix(true).withPrevKV(true).withCreateNotify(true).build(), r -> {
                        responses.incrementAndGet();
                        if (r.isCreatedNotify()) {
                            created.incrementAndGet();
                        } else if (r.isProgressNotify()) {
                            progress.add(r.getHeader().getRevision());
                        }
                        r.getEvents().forEach(e -> seen.add(line(e)));
                    });
            Watch.Watcher w2 = watching.getWatchClient().watch(bs("j/"),
                    WatchOption.builder().isPrefix(true).withNoPut(true).withCreateNotify(true).build(), r -> {
                        if (r.isCreatedNotify()) {
                            created.incrementAndGet();
                        }
                        r.getEvents().forEach(e -> seenNoPut.add(line(e)));
                    });
            KV kv = writing.getKVClient();
            await().atMost(Duration.ofSeconds(30)).until(() -> created.get() == 2);
            List<String> expected = new ArrayList<>();
            List<String> expectedDeletes = new ArrayList<>();
            String[] last = new String[20];
            for (int i = 0; i < 200; i++) {
                String key = "j/" + (i % 20);
                if (i % 7 == 6) {
                    long rev = kv.delete(bs(key)).get(10, TimeUnit.SECONDS).getHeader().getRevision();
                    if (last[i % 20] != null) {
                        String d = "DELETE " + key + "=@" + rev + " prev=" + last[i % 20];
                        expected.add(d);
                        expectedDeletes.add("DELETE " + key + "=@" + rev);
                    }
                    last[i % 20] = null;
                } else {
                    long rev = kv.put(bs(key), bs("v" + i)).get(10, TimeUnit.SECONDS).getHeader().getRevision();
                    expected.add("PUT " + key + "=v" + i + "@" + rev + (last[i % 20] != null ? " prev=" + last[i % 20] : ""));
                    last[i % 20] = "v" + i;
                }
            }
            long txnRev = kv.txn().Then(Op.put(bs("j/t1"), bs("x"), PutOption.DEFAULT),
                    Op.put(bs("j/t2"), bs("y"), PutOption.DEFAULT)).commit().get(10, TimeUnit.SECONDS)
                    .getHeader().getRevision();
            expected.add("PUT j/t1=x@" + txnRev);
            expected.add("PUT j/t2=y@" + txnRev);
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(seen).hasSize(expected.size()));
            assertThat(seen).isEqualTo(expected);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(seenNoPut).isEqualTo(expectedDeletes));
            // etcd's WatchProgressRequest: answered (watch id -1) with a revision no lower than
            // every event already delivered.
            watching.getWatchClient().requestProgress();
            await().atMost(Duration.ofSeconds(30)).until(() -> !progress.isEmpty());
            assertThat(progress.get(0)).isGreaterThanOrEqualTo(txnRev);
            w1.close();
            w2.close();
            System.out.println("[WatchIT] jetcd: " + seen.size() + " events in " + responses.get()
                    + " responses watched on follower n" + (follower + 1) + ", written through n" + (writer + 1)
                    + " (leader n" + (leader + 1) + ")");
        }
    }

    // ------------------------------------------------------------------ one thousand watchers

    /**
     * A watch client that stops reading: grpc-java with manual flow control and a fixed 64 KiB
     * window takes the created reply and then requests nothing, so once the window is full the
     * server's stream is not ready any more; {@link #resume()} reads everything from then on.
     */
    private static final class NeverReadingWatch implements AutoCloseable {
        private final io.grpc.ManagedChannel channel;
        private final List<Long> revisions = new CopyOnWriteArrayList<>();
        private final AtomicInteger responses = new AtomicInteger();
        private final AtomicReference<Throwable> error = new AtomicReference<>();
        private volatile io.grpc.stub.ClientCallStreamObserver<io.etcd.jetcd.api.WatchRequest> call;

        NeverReadingWatch(String endpoint, String key, String rangeEnd) {
            java.net.URI u = java.net.URI.create(endpoint);
            channel = io.grpc.netty.NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext()
                    .flowControlWindow(64 << 10).maxInboundMessageSize(Integer.MAX_VALUE).build();
            io.grpc.stub.StreamObserver<io.etcd.jetcd.api.WatchRequest> requests =
                    io.etcd.jetcd.api.WatchGrpc.newStub(channel).watch(new io.grpc.stub.ClientResponseObserver<
                            io.etcd.jetcd.api.WatchRequest, io.etcd.jetcd.api.WatchResponse>() {
                        @Override
                        public void beforeStart(io.grpc.stub.ClientCallStreamObserver<io.etcd.jetcd.api.WatchRequest> c) {
                            call = c;
                            c.disableAutoRequestWithInitial(1);
                        }

                        @Override
                        public void onNext(io.etcd.jetcd.api.WatchResponse r) {
                            responses.incrementAndGet();
                            r.getEventsList().forEach(e -> revisions.add(e.getKv().getModRevision()));
                        }

                        @Override
                        public void onError(Throwable t) {
                            error.set(t);
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
            requests.onNext(io.etcd.jetcd.api.WatchRequest.newBuilder().setCreateRequest(
                    io.etcd.jetcd.api.WatchCreateRequest.newBuilder()
                            .setKey(com.google.protobuf.ByteString.copyFromUtf8(key))
                            .setRangeEnd(com.google.protobuf.ByteString.copyFromUtf8(rangeEnd))).build());
        }

        void resume() {
            call.request(Integer.MAX_VALUE);
        }

        @Override
        public void close() throws InterruptedException {
            channel.shutdownNow();
            channel.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(3)
    void thousandWatchersKeepUpWhileOneStreamIsNeverRead() throws Exception {
        String[] endpoints = cluster.endpoints().split(",");
        // -Dwatchit.watchers=N compares with fewer watchers (for instance 1, as a baseline).
        int watchers = Integer.getInteger("watchit.watchers", 1000);
        int writes = 300;
        int bigWrites = 6;
        List<Client> clients = new ArrayList<>();
        // The never-read client watches "lat" (so also "latbig/", whose 1 MiB values fill every
        // buffer on its way at once); the thousand watchers watch "lat/".
        try (NeverReadingWatch stuck = new NeverReadingWatch(endpoints[0], "lat", "lau")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> stuck.responses.get() == 1);
            for (int c = 0; c < 4; c++) {
                clients.add(Client.builder().endpoints(endpoints[0]).build());
            }
            ConcurrentLinkedQueue<Long> latenciesNanos = new ConcurrentLinkedQueue<>();
            AtomicLong[] lastRevision = new AtomicLong[watchers];
            AtomicInteger disorder = new AtomicInteger();
            List<Watch.Watcher> ws = new ArrayList<>();
            AtomicInteger created = new AtomicInteger();
            for (int i = 0; i < watchers; i++) {
                AtomicLong lastRev = new AtomicLong();
                lastRevision[i] = lastRev;
                ws.add(clients.get(i % clients.size()).getWatchClient().watch(bs("lat/"),
                        WatchOption.builder().isPrefix(true).withCreateNotify(true).build(), r -> {
                            if (r.isCreatedNotify()) {
                                created.incrementAndGet();
                            }
                            long now = System.nanoTime();
                            for (WatchEvent e : r.getEvents()) {
                                long rev = e.getKeyValue().getModRevision();
                                if (rev <= lastRev.getAndSet(rev)) {
                                    disorder.incrementAndGet();
                                }
                                String v = str(e.getKeyValue().getValue());
                                latenciesNanos.add(now - Long.parseLong(v.substring(0, v.indexOf(':'))));
                            }
                        }));
            }
            await().atMost(Duration.ofSeconds(120)).until(() -> created.get() == watchers);
            long leaderChangesBefore = leaderChanges();
            String pad = "x".repeat(2000);
            long firstRev = 0;
            long lastRev = 0;
            try (Client writer = Client.builder().endpoints(endpoints[1]).build()) {
                String big = "y".repeat(1 << 20);
                for (int i = 0; i < bigWrites; i++) {
                    String key = "latbig/" + i;
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                        writer.getKVClient().put(bs(key), bs(big)).get(10, TimeUnit.SECONDS);
                        return true;
                    });
                }
                // The server parks the never-read client's watcher in its unsynced group (bounded
                // buffer, served from history later).
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> metric(0, "etcd_debugging_mvcc_slow_watcher_total") >= 1);
                for (int i = 0; i < writes; i++) {
                    String key = "lat/" + (i % 10);
                    AtomicLong put = new AtomicLong();
                    // The loaded test machine may lose a leader now and then: retry the put (a
                    // put that failed with "no leader" wrote nothing; one that timed out may have).
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                        put.set(writer.getKVClient().put(bs(key), bs(System.nanoTime() + ":" + pad))
                                .get(10, TimeUnit.SECONDS).getHeader().getRevision());
                        return true;
                    });
                    long rev = put.get();
                    if (i == 0) {
                        firstRev = rev;
                    }
                    lastRev = rev;
                    Thread.sleep(10);
                }
            }
            long target = lastRev;
            await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
                for (AtomicLong l : lastRevision) {
                    assertThat(l.get()).isEqualTo(target);
                }
            });
            assertThat(disorder.get()).isZero();
            // Each put is one revision; a retried put that did commit adds one more event, seen
            // by every watcher alike: all watchers saw the same number of events, at least one per put.
            assertThat(latenciesNanos.size() % watchers).isZero();
            int perWatcher = latenciesNanos.size() / watchers;
            assertThat(perWatcher).isBetween(writes, (int) (target - firstRev + 1));
            long slow = metric(0, "etcd_debugging_mvcc_slow_watcher_total");
            assertThat(slow).as("the never-read client's watcher is still unsynced").isGreaterThanOrEqualTo(1);
            assertThat(stuck.responses.get()).as("responses the never-read client took").isLessThan(5);
            long[] sorted = latenciesNanos.stream().mapToLong(Long::longValue).sorted().toArray();
            System.out.printf("[WatchIT] %d watchers x %d puts (2 KB values) on member n1, one never-read stream on n1:"
                            + " event latency p50=%.1f ms p90=%.1f ms p99=%.1f ms max=%.1f ms%n",
                    watchers, writes, pct(sorted, 50), pct(sorted, 90), pct(sorted, 99),
                    sorted[sorted.length - 1] / 1e6);
            System.out.println("[WatchIT] leader changes seen during the writes (all members): "
                    + (leaderChanges() - leaderChangesBefore) + "; member n1 metrics: watchers="
                    + metric(0, "etcd_debugging_mvcc_watcher_total") + " slow (unsynced) watchers=" + slow);
            ws.forEach(Watch.Watcher::close);

            // Once it reads again, the never-read client catches up from history: every event of
            // its range, in revision order, each once.
            stuck.resume();
            int expected = bigWrites + perWatcher;
            await().atMost(Duration.ofSeconds(120)).until(() -> stuck.revisions.size() >= expected
                    || stuck.error.get() != null);
            assertThat(stuck.error.get()).isNull();
            List<Long> revs = new ArrayList<>(stuck.revisions);
            assertThat(revs).hasSize(expected);
            for (int i = 1; i < revs.size(); i++) {
                assertThat(revs.get(i)).isGreaterThan(revs.get(i - 1));
            }
            assertThat(revs.get(revs.size() - 1)).isEqualTo(target);
            System.out.println("[WatchIT] the never-read stream caught up on " + revs.size()
                    + " events (revisions " + revs.get(0) + ".." + target + ") once read");
        } finally {
            for (Client c : clients) {
                c.close();
            }
        }
    }

    private static double pct(long[] sorted, int p) {
        int i = (int) Math.min(sorted.length - 1, Math.ceil(p / 100.0 * sorted.length) - 1);
        return sorted[Math.max(0, i)] / 1e6;
    }

    /** Sum over running members of etcd_server_leader_changes_seen_total from /metrics. */
    private long leaderChanges() throws Exception {
        long sum = 0;
        for (int i = 0; i < cluster.size(); i++) {
            if (cluster.process(i) != null && cluster.process(i).isAlive()) {
                sum += metric(i, "etcd_server_leader_changes_seen_total");
            }
        }
        return sum;
    }

    /** The value of metric {@code name} (no labels) on member {@code i}'s /metrics, 0 if absent. */
    private long metric(int i, String name) throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(cluster.metricsUrl(i) + "/metrics"))
                        .timeout(Duration.ofSeconds(5)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        for (String l : r.body().split("\n")) {
            if (l.startsWith(name + " ") || l.startsWith(name + "{")) {
                return (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }


    // ------------------------------------------------------------------ leader kill

    @Test
    @Order(4)
    void watcherResumesOnAnotherMemberAfterTheLeaderIsKilledWithNoGapAndNoDuplicate() throws Exception {
        cluster.awaitHealthy(Duration.ofSeconds(60));
        int leader = await().atMost(Duration.ofSeconds(60)).until(cluster::leaderIndex, l -> l >= 0);
        assertThat(leader).isNotNegative();
        String[] endpoints = cluster.endpoints().split(",");
        int other = (leader + 1) % 3;
        int third = (leader + 2) % 3;
        List<String> seen = new CopyOnWriteArrayList<>();
        AtomicLong lastSeen = new AtomicLong();
        AtomicLong startRev = new AtomicLong();
        try (Client setup = Client.builder().endpoints(endpoints[other]).build()) {
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                startRev.set(setup.getKVClient().put(bs("kill/start"), bs("s")).get(10, TimeUnit.SECONDS)
                        .getHeader().getRevision());
                return true;
            });
        }
        long start = startRev.get();
        AtomicReference<Throwable> writerError = new AtomicReference<>();
        AtomicInteger written = new AtomicInteger();
        int total = 400;
        Thread writer = new Thread(() -> {
            try (Client w = Client.builder().endpoints(endpoints[other], endpoints[third]).build()) {
                for (int i = 0; i < total; i++) {
                    String key = "kill/" + (i % 13);
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                        w.getKVClient().put(bs(key), bs("v" + written.get())).get(5, TimeUnit.SECONDS);
                        return true;
                    });
                    written.incrementAndGet();
                }
            } catch (Throwable t) {
                writerError.set(t);
            }
        }, "watch-it-writer");
        Client onLeader = Client.builder().endpoints(endpoints[leader]).build();
        Object lock = new Object();
        java.util.concurrent.atomic.AtomicBoolean firstActive = new java.util.concurrent.atomic.AtomicBoolean(true);
        Watch.Watcher first = onLeader.getWatchClient().watch(bs("kill/"),
                WatchOption.builder().isPrefix(true).withRevision(start).withPrevKV(true).build(), r -> {
                    synchronized (lock) {
                        if (!firstActive.get()) {
                            return;
                        }
                        for (WatchEvent e : r.getEvents()) {
                            seen.add(line(e));
                            lastSeen.set(e.getKeyValue().getModRevision());
                        }
                    }
                });
        writer.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> written.get() >= total / 4 && seen.size() >= total / 8);
        cluster.kill(leader);
        long from;
        synchronized (lock) {
            firstActive.set(false);
            from = lastSeen.get() + 1;
        }
        first.close();
        onLeader.close();
        Client resumed = Client.builder().endpoints(endpoints[other]).build();
        try {
            Watch.Watcher second = resumed.getWatchClient().watch(bs("kill/"),
                    WatchOption.builder().isPrefix(true).withRevision(from).withPrevKV(true).build(), r -> {
                        for (WatchEvent e : r.getEvents()) {
                            seen.add(line(e));
                            lastSeen.set(e.getKeyValue().getModRevision());
                        }
                    });
            writer.join(TimeUnit.SECONDS.toMillis(180));
            assertThat(writerError.get()).isNull();
            assertThat(written.get()).isEqualTo(total);
            try (Client check = Client.builder().endpoints(endpoints[third]).build()) {
                AtomicLong endRev = new AtomicLong();
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                    endRev.set(check.getKVClient().put(bs("kill/end"), bs("e")).get(10, TimeUnit.SECONDS)
                            .getHeader().getRevision());
                    return true;
                });
                long end = endRev.get();
                await().atMost(Duration.ofSeconds(60)).until(() -> lastSeen.get() >= end);
                second.close();
                // The whole history of the prefix, replayed in one go by a third member.
                List<String> history = new CopyOnWriteArrayList<>();
                AtomicLong historyLast = new AtomicLong();
                Watch.Watcher replay = check.getWatchClient().watch(bs("kill/"),
                        WatchOption.builder().isPrefix(true).withRevision(start).withPrevKV(true).build(), r -> {
                            for (WatchEvent e : r.getEvents()) {
                                history.add(line(e));
                                historyLast.set(e.getKeyValue().getModRevision());
                            }
                        });
                await().atMost(Duration.ofSeconds(60)).until(() -> historyLast.get() >= end);
                replay.close();
                assertThat(seen).as("events seen across the leader kill vs the history").isEqualTo(history);
            }
            System.out.println("[WatchIT] leader kill: " + seen.size() + " events, resumed on member " + (other + 1)
                    + " from revision " + from + ", no gap and no duplicate vs the replayed history");
        } finally {
            resumed.close();
            cluster.startMember(leader);
        }
    }
}

package io.raftkv.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.LeaseTimeToLiveRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;

import java.net.URI;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The same etcdctl 3.4 lease session runs against real etcd 3.4 and raftkv (3 members each);
 * every command must print the same output and exit with the same code. Lease ids are chosen by
 * each server, so {@code {L1}}/{@code {L2}} in a step stand for the ids that server granted and
 * are masked in outputs; the remaining TTL may differ by the second in which it was read, and etcd
 * lists attached keys and leases in an order of its own, so they are compared sorted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EtcdctlLeaseCompatibilityIT {

    private static final List<List<String>> SESSION = List.of(
            List.of("lease", "grant", "100"),
            List.of("lease", "grant", "200"),
            List.of("put", "--lease={L1}", "k1", "v1"),
            List.of("put", "--lease={L1}", "k2", "v2"),
            List.of("put", "--lease={L2}", "k3", "v3"),
            List.of("lease", "timetolive", "{L1}"),
            List.of("lease", "timetolive", "--keys", "{L1}"),
            List.of("lease", "timetolive", "--keys", "{L2}", "-w", "json"),
            List.of("lease", "list"),
            List.of("lease", "keep-alive", "--once", "{L1}"),
            List.of("put", "--lease={L2}", "k1", "moved"),
            List.of("lease", "timetolive", "--keys", "{L2}"),
            List.of("lease", "revoke", "{L1}"),
            List.of("get", "--prefix", "k"),
            List.of("lease", "revoke", "{L1}"),
            List.of("lease", "timetolive", "{L1}"),
            List.of("lease", "keep-alive", "--once", "{L1}"),
            List.of("put", "--lease={L1}", "k9", "v"),
            List.of("put", "--lease=1234", "k9", "v"),
            List.of("lease", "grant", "9000000001"),
            List.of("lease", "revoke", "1234"),
            List.of("lease", "revoke", "{L2}"),
            List.of("lease", "list"),
            List.of("get", "--prefix", "k", "-w", "json"));

    private static final Pattern GRANTED = Pattern.compile("lease ([0-9a-f]+) granted");
    private static final Pattern ATTACHED = Pattern.compile("attached keys\\(\\[([^\\]]*)\\]\\)");
    private static final Pattern REMAINING = Pattern.compile("remaining\\((\\d+)s\\)|\"ttl\":(\\d+)");

    private LocalCluster etcd;
    private LocalCluster raftkv;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(EtcdctlCompatibilityIT.onPath("etcdctl") && EtcdctlCompatibilityIT.onPath("etcd"),
                "etcd and etcdctl 3.4 are not installed");
        etcd = LocalCluster.start(LocalCluster.Kind.ETCD, 3);
        raftkv = LocalCluster.start(LocalCluster.Kind.RAFTKV, 3);
    }

    @AfterAll
    void stop() throws Exception {
        if (etcd != null) {
            etcd.close();
        }
        if (raftkv != null) {
            raftkv.close();
        }
    }

    /** Runs the session on one cluster; returns the normalized outputs. */
    private static List<String> run(LocalCluster c) throws Exception {
        List<String> ids = new ArrayList<>();
        List<String> out = new ArrayList<>();
        for (List<String> step : SESSION) {
            String[] args = step.stream().map(a -> substitute(a, ids)).toArray(String[]::new);
            LocalCluster.Result r = c.etcdctlAt(c.endpoints(), null, args);
            Matcher m = GRANTED.matcher(r.stdout());
            if (m.find()) {
                ids.add(m.group(1));
            }
            out.add(String.join(" ", step) + " -> " + mask(EtcdctlCompatibilityIT.normalize(r), ids));
        }
        return out;
    }

    private static String substitute(String arg, List<String> ids) {
        for (int i = 0; i < ids.size(); i++) {
            arg = arg.replace("{L" + (i + 1) + "}", ids.get(i));
        }
        return arg;
    }

    /** Masks each granted id (hex, and decimal as JSON prints it), and rounds remaining TTLs to tens. */
    private static String mask(String s, List<String> ids) {
        for (int i = 0; i < ids.size(); i++) {
            s = s.replace(ids.get(i), "{L" + (i + 1) + "}")
                    .replace(Long.toString(Long.parseUnsignedLong(ids.get(i), 16)), "{L" + (i + 1) + "}");
        }
        Matcher m = REMAINING.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String n = m.group(1) != null ? m.group(1) : m.group(2);
            long tens = (Long.parseLong(n) + 5) / 10 * 10;
            m.appendReplacement(sb, m.group(1) != null ? "remaining(~" + tens + "s)" : "\"ttl\":~" + tens);
        }
        m.appendTail(sb);
        // etcd lists a lease's keys in Go map order (random); raftkv in key order.
        Matcher keys = ATTACHED.matcher(sb.toString());
        StringBuilder sorted = new StringBuilder();
        while (keys.find()) {
            keys.appendReplacement(sorted, Matcher.quoteReplacement("attached keys(["
                    + String.join(" ", java.util.Arrays.stream(keys.group(1).split(" ")).sorted().toList()) + "])"));
        }
        keys.appendTail(sorted);
        // etcd lists leases by expiry (equal on a follower, so in random order); raftkv by id.
        String[] lines = sorted.toString().split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].matches("found \\d+ leases")) {
                java.util.Arrays.sort(lines, i + 1, lines.length);
            }
        }
        return String.join("\n", lines);
    }

    @Test
    void etcdctlLeaseSessionPrintsWhatEtcdPrints() throws Exception {
        List<String> want = run(etcd);
        List<String> got = run(raftkv);
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < want.size(); i++) {
            if (!want.get(i).equals(got.get(i))) {
                mismatches.add("etcd:   " + want.get(i).replace("\n", "\\n") + "\nraftkv: " + got.get(i).replace("\n", "\\n"));
            }
        }
        assertThat(mismatches).as("lease commands whose output differs from etcd's\n" + raftkv.logs()).isEmpty();
    }

    /** The raw gRPC answers a client sees for the lease rules, as one comparable text per call. */
    private static List<String> rawAnswers(LocalCluster c) throws Exception {
        URI u = URI.create(c.clientUrl(0));
        ManagedChannel ch = NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext().build();
        try {
            LeaseGrpc.LeaseBlockingStub lease = LeaseGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
            List<String> out = new ArrayList<>();
            out.add(call(() -> "ID=" + lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(0x1234).setTTL(30).build()).getID()));
            out.add(call(() -> "ID=" + lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(0x1234).setTTL(30).build()).getID()));
            out.add(call(() -> "TTL=" + lease.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(9_000_000_001L).build()).getTTL()));
            out.add(call(() -> "TTL=" + lease.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(9_000_000_000L).build()).getTTL()));
            out.add(call(() -> "revoked " + lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(0x9999).build()).hasHeader()));
            out.add(call(() -> "TTL=" + lease.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(0x9999).build()).getTTL()));
            CompletableFuture<LeaseKeepAliveResponse> ka = new CompletableFuture<>();
            StreamObserver<LeaseKeepAliveRequest> stream = LeaseGrpc.newStub(ch).leaseKeepAlive(new StreamObserver<>() {
                @Override
                public void onNext(LeaseKeepAliveResponse r) {
                    ka.complete(r);
                }

                @Override
                public void onError(Throwable t) {
                    ka.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                }
            });
            stream.onNext(LeaseKeepAliveRequest.newBuilder().setID(0x9999).build());
            out.add(call(() -> "keepalive ID=" + ka.get(20, TimeUnit.SECONDS).getID() + " TTL=" + ka.get().getTTL()));
            stream.onCompleted();
            return out;
        } finally {
            ch.shutdownNow();
        }
    }

    private static String call(java.util.concurrent.Callable<String> c) {
        try {
            return c.call();
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode() + " " + e.getStatus().getDescription();
        } catch (Exception e) {
            return e.toString();
        }
    }

    @Test
    void grantRevokeTimeToLiveAndKeepAliveRulesAnswerWhatEtcdAnswers() throws Exception {
        List<String> want = rawAnswers(etcd);
        assertThat(rawAnswers(raftkv)).isEqualTo(want);
        assertThat(want.get(1)).isEqualTo("FAILED_PRECONDITION etcdserver: lease already exists");
    }

    @Test
    void aTtlBelowTheMinimumIsRaisedToIt() throws Exception {
        // raftkv's defaults: election 3 ticks of 50 ms, so ceil((3 * 3 / 2) * 50 ms) = 1 s.
        URI u = URI.create(raftkv.clientUrl(1));
        ManagedChannel ch = NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext().build();
        try {
            LeaseGrpc.LeaseBlockingStub lease = LeaseGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
            assertThat(lease.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(0).build()).getTTL()).isEqualTo(1);
            assertThat(lease.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(-5).build()).getTTL()).isEqualTo(1);
            assertThat(lease.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(2).build()).getTTL()).isEqualTo(2);
        } finally {
            ch.shutdownNow();
        }
    }
}

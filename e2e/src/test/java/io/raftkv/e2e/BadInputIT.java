package io.raftkv.e2e;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.raftkv.e2e.JetcdClientIT.bs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Bad input from real clients (etcdctl 3.4, jetcd, and raw gRPC frames) against a 3-member raftkv
 * cluster: each request is refused with etcd's gRPC error, the node keeps serving, and the data
 * written before is untouched (STYLE: "bad input gets a clear error in the client's terms, and
 * nothing already stored is lost"). Limits are the defaults: --max-request-bytes 1.5 MiB,
 * --max-txn-ops 128.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BadInputIT {

    private static final int DEFAULT_MAX_REQUEST_BYTES = 1_572_864;
    private static final int DEFAULT_MAX_TXN_OPS = 128;

    private LocalCluster cluster;
    private Client client;
    /** {@code etcdctl get --prefix keep/ -w json} before any bad input, revision header masked. */
    private String before;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(EtcdctlCompatibilityIT.onPath("etcdctl"), "etcdctl 3.4 is not installed");
        cluster = LocalCluster.start(LocalCluster.Kind.RAFTKV, 3);
        client = Client.builder().endpoints(cluster.endpoints().split(",")).build();
        for (int i = 0; i < 10; i++) {
            okEventually(cluster.endpoints(), null, "put", "keep/" + i, "value-" + i);
        }
        okEventually(cluster.endpoints(), null, "put", "keep/3", "value-3-again");
        before = keepSnapshot();
    }

    @AfterAll
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void emptyKeyIsRejected() throws Exception {
        expectError("Error: etcdserver: key is not provided", null, "put", "", "v");
        assertThatThrownBy(() -> client.getKVClient().put(bs(""), bs("v")).get(10, TimeUnit.SECONDS))
                .satisfies(e -> assertThat(JetcdClientIT.messages(e)).contains("etcdserver: key is not provided"));
    }

    @Test
    @Order(2)
    void valueOverMaxRequestBytesIsRejected() throws Exception {
        // Above --max-request-bytes but below gRPC's receive limit (etcd adds 512 KiB of headroom),
        // so the etcd server itself answers; the value goes on stdin as etcdctl users do.
        String value = "a".repeat(DEFAULT_MAX_REQUEST_BYTES + 30_000);
        expectError("Error: etcdserver: request is too large", value, "put", "keep/big");
    }

    @Test
    @Order(3)
    void txnOverMaxTxnOpsIsRejectedAndAtTheLimitAccepted() throws Exception {
        expectError("Error: etcdserver: too many operations in txn request", txnOfPuts("keep/txn/", DEFAULT_MAX_TXN_OPS + 1), "txn");
        LocalCluster.Result atLimit = okEventually(cluster.endpoints(), txnOfPuts("txn-ok/", DEFAULT_MAX_TXN_OPS), "txn");
        assertThat(atLimit.stdout()).startsWith("SUCCESS\n");
        assertThat(okEventually(cluster.endpoints(), null, "get", "--prefix", "txn-ok/", "--limit", "1", "-w", "json").stdout())
                .contains("\"count\":" + DEFAULT_MAX_TXN_OPS);
    }

    @Test
    @Order(4)
    void txnWritingOneKeyTwiceIsRejected() throws Exception {
        KV kv = client.getKVClient();
        assertThatThrownBy(() -> kv.txn().Then(Op.put(bs("keep/0"), bs("x"), PutOption.DEFAULT),
                        Op.put(bs("keep/0"), bs("y"), PutOption.DEFAULT)).commit().get(10, TimeUnit.SECONDS))
                .satisfies(e -> assertThat(JetcdClientIT.messages(e)).contains("etcdserver: duplicate key given in txn request"));
    }

    @Test
    @Order(5)
    void rangeAndCompactionAtAFutureRevisionAreRejected() throws Exception {
        long rev = client.getKVClient().get(bs("keep/0")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
        String future = Long.toString(rev + 1000);
        expectError("Error: etcdserver: mvcc: required revision is a future revision", null, "get", "keep/0", "--rev", future);
        expectError("Error: etcdserver: mvcc: required revision is a future revision", null, "compact", future);
        assertThatThrownBy(() -> client.getKVClient().get(bs("keep/0"), GetOption.builder().withRevision(rev + 1000).build())
                .get(10, TimeUnit.SECONDS))
                .satisfies(e -> assertThat(JetcdClientIT.messages(e)).contains("etcdserver: mvcc: required revision is a future revision"));
    }

    @Test
    @Order(6)
    void malformedProtobufIsRefusedAndTheNodeKeepsServing() throws Exception {
        List<String> got = putRaw(cluster.clientUrl(0));
        List<String> want;
        if (EtcdctlCompatibilityIT.onPath("etcd")) {
            try (LocalCluster etcd = LocalCluster.start(LocalCluster.Kind.ETCD, 1)) {
                want = putRaw(etcd.clientUrl(0));
            }
        } else {
            // What etcd 3.4 (grpc-go) answers: codes.Internal, "grpc: error unmarshalling request: ...".
            want = new ArrayList<>();
            for (byte[] body : GARBAGE) {
                want.add(HexFormat.of().formatHex(body) + " -> INTERNAL " + UNMARSHAL_PREFIX);
            }
            want.add(WELL_FORMED_PUT + " -> OK");
        }
        String one = cluster.clientUrl(0);
        okEventually(one, null, "put", "after-garbage", "fine");
        assertThat(okEventually(one, null, "get", "raw").stdout()).isEqualTo("raw\nok\n");
        assertThat(okEventually(one, null, "get", "after-garbage").stdout()).isEqualTo("after-garbage\nfine\n");
        assertThat(cluster.healthy(0)).isTrue();
        // etcd (grpc-go) answers INTERNAL "grpc: error unmarshalling request: <why>" to each garbage
        // body, <why> in its protobuf library's words; raftkv must answer the same code and prefix.
        assertThat(got).as("status of KV/Put for each request body, raftkv's (actual) vs etcd's (expected)")
                .isEqualTo(want);
    }

    private static final String UNMARSHAL_PREFIX = "grpc: error unmarshalling request:";

    /** Request bodies that are not a valid protobuf message. */
    private static final List<byte[]> GARBAGE = List.of(
            HexFormat.of().parseHex("ffffffffffffffffffffff"),   // a field tag varint that never ends
            HexFormat.of().parseHex("0f"),                       // field 1 with wire type 7 (does not exist)
            HexFormat.of().parseHex("0a64616263"),               // key: length 100, only 3 bytes follow
            HexFormat.of().parseHex("0a036b6579126400"));        // value: length 100, 1 byte follows
    /** PutRequest{key: "raw", value: "ok"}. */
    private static final String WELL_FORMED_PUT = "0a037261771202" + "6f6b";

    /**
     * Sends each {@link #GARBAGE} body, then a well-formed one, as KV/Put on one HTTP/2 connection
     * to {@code url}, bypassing protobuf; returns "body -> status code" for each.
     */
    private static List<String> putRaw(String url) throws InterruptedException {
        List<byte[]> bodies = new ArrayList<>(GARBAGE);
        bodies.add(HexFormat.of().parseHex(WELL_FORMED_PUT));
        List<String> out = new ArrayList<>();
        try (RawGrpc grpc = new RawGrpc(url)) {
            for (byte[] body : bodies) {
                String code;
                try {
                    byte[] response = grpc.unary("etcdserverpb.KV", "Put", body, Duration.ofSeconds(5));
                    code = response.length > 0 ? "OK" : "UNKNOWN";
                } catch (StatusRuntimeException e) {
                    System.out.printf("KV/Put %s at %s: %s%n", HexFormat.of().formatHex(body), url, e.getStatus());
                    // the reason after the prefix is the protobuf library's own words, which differ
                    String description = String.valueOf(e.getStatus().getDescription());
                    code = e.getStatus().getCode() + (description.startsWith(UNMARSHAL_PREFIX) ? " " + UNMARSHAL_PREFIX : "");
                }
                out.add(HexFormat.of().formatHex(body) + " -> " + code);
            }
        }
        return out;
    }

    @Test
    @Order(100)
    void dataWrittenBeforeIsUnchangedAfterAllBadInput() throws Exception {
        assertThat(keepSnapshot()).isEqualTo(before);
        GetResponse r = client.getKVClient().get(bs("keep/"), GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS);
        assertThat(r.getKvs()).extracting(JetcdClientIT::entry).containsExactly(
                "keep/0=value-0", "keep/1=value-1", "keep/2=value-2", "keep/3=value-3-again", "keep/4=value-4",
                "keep/5=value-5", "keep/6=value-6", "keep/7=value-7", "keep/8=value-8", "keep/9=value-9");
        for (int i = 0; i < cluster.size(); i++) {
            assertThat(cluster.process(i).isAlive()).as(cluster.name(i) + " alive").isTrue();
        }
    }

    /** Every key-value under keep/ with its revisions and versions, as etcdctl prints them in JSON. */
    private String keepSnapshot() throws Exception {
        String json = okEventually(cluster.endpoints(), null, "get", "--prefix", "keep/", "-w", "json").stdout();
        return json.replaceFirst("\"header\":\\{[^}]*\\}", "\"header\":_");
    }

    /** An etcdctl txn script with no compares and {@code n} puts in the success branch. */
    private static String txnOfPuts(String prefix, int n) {
        StringBuilder sb = new StringBuilder("\n");
        for (int i = 0; i < n; i++) {
            sb.append("put ").append(prefix).append(i).append(" v\n");
        }
        return sb.append("\n\n").toString();
    }

    /**
     * Runs etcdctl until it exits 0, for 30 s at most: for reads and idempotent writes, which a
     * client retries when an election on a loaded machine makes a request time out.
     */
    private LocalCluster.Result okEventually(String endpoints, String stdin, String... args) {
        LocalCluster.Result[] last = new LocalCluster.Result[1];
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
            last[0] = cluster.etcdctlAt(endpoints, stdin, args);
            assertThat(last[0].exitCode()).as("etcdctl exit code; stderr:\n" + last[0].stderr()).isZero();
        });
        return last[0];
    }

    /**
     * Runs etcdctl against every endpoint until it fails with {@code want} (its last "Error:" line),
     * for 20 s at most, so that a timeout during an election is not mistaken for the answer.
     */
    private void expectError(String want, String stdin, String... args) {
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
            LocalCluster.Result r = cluster.etcdctlAt(cluster.endpoints(), stdin, args);
            assertThat(r.exitCode()).as("etcdctl exit code; stdout:\n" + r.stdout()).isNotZero();
            String error = r.stderr().lines().filter(l -> l.startsWith("Error:")).reduce((a, b) -> b).orElse(r.stderr()).strip();
            assertThat(error).as("etcdctl " + String.join(" ", args)).isEqualTo(want);
        });
    }

    /** Request and response bodies passed through as bytes, so that the test can send invalid protobuf. */
}

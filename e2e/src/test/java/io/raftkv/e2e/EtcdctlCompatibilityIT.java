package io.raftkv.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The same etcdctl 3.4 session runs against a real 3-member etcd 3.4 cluster and a 3-member
 * raftkv cluster; every command must print the same output and exit with the same code. Only
 * fields that legitimately differ (cluster and member ids, raft term) are masked.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EtcdctlCompatibilityIT {

    /** One etcdctl invocation: stdin (or null) and arguments. */
    record Step(String stdin, String... args) {
        static Step of(String... args) {
            return new Step(null, args);
        }
    }

    private static final List<Step> SESSION = List.of(
            Step.of("put", "foo", "bar"),
            Step.of("put", "foo2", "bar2"),
            Step.of("put", "fop", "x"),
            Step.of("get", "foo"),
            Step.of("get", "--prefix", "foo"),
            Step.of("get", "--prefix", "fo", "--limit", "2"),
            Step.of("get", "--prefix", "fo", "--keys-only"),
            Step.of("get", "--prefix", "fo", "--count-only", "-w", "json"),
            Step.of("get", "foo", "fop", "-w", "json"),
            Step.of("get", "--from-key", "foo2"),
            Step.of("get", "--prefix", "fo", "--sort-by", "VALUE", "--order", "DESCEND"),
            Step.of("put", "foo", "bar3", "--prev-kv"),
            Step.of("get", "foo", "--rev", "2"),
            Step.of("get", "foo", "--rev", "1"),
            Step.of("get", "foo", "-w", "json"),
            new Step("value(\"foo2\") = \"bar2\"\n\nput foo3 yes\n\nput foo3 no\n\n", "txn"),
            new Step("mod(\"foo\") < \"2\"\n\nput foo4 yes\n\nput foo4 no\nget foo\n\n", "txn"),
            Step.of("get", "--prefix", "foo"),
            Step.of("del", "foo", "--prev-kv"),
            Step.of("del", "--prefix", "foo"),
            Step.of("get", "--prefix", "", "-w", "json"),
            Step.of("compact", "3"),
            Step.of("get", "foo", "--rev", "2"),
            Step.of("get", "foo", "--rev", "100"),
            Step.of("put", "", "empty"),
            Step.of("del", "nothing-here"));

    private LocalCluster etcd;
    private LocalCluster raftkv;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(onPath("etcdctl") && onPath("etcd"), "etcd and etcdctl 3.4 are not installed");
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

    @Test
    void etcdctlSessionPrintsWhatEtcdPrints() throws Exception {
        List<String> mismatches = new ArrayList<>();
        for (Step s : SESSION) {
            LocalCluster.Result want = etcd.etcdctlAt(etcd.endpoints(), s.stdin(), s.args());
            LocalCluster.Result got = raftkv.etcdctlAt(raftkv.endpoints(), s.stdin(), s.args());
            String w = normalize(want);
            String g = normalize(got);
            if (!w.equals(g)) {
                mismatches.add("etcdctl " + String.join(" ", s.args()) + "\n  etcd:   " + w.replace("\n", "\\n")
                        + "\n  raftkv: " + g.replace("\n", "\\n"));
            }
        }
        assertThat(mismatches).as("commands whose output differs from etcd's\n" + raftkv.logs()).isEmpty();
    }

    private static final Pattern IDS = Pattern.compile("\"(cluster_id|member_id|raft_term)\":\\d+");

    static String normalize(LocalCluster.Result r) {
        StringBuilder sb = new StringBuilder("exit=" + r.exitCode() + "\n");
        sb.append(IDS.matcher(r.stdout().strip()).replaceAll("\"$1\":_"));
        for (String line : r.stderr().split("\n")) {
            if (line.startsWith("Error:")) {
                sb.append("\n").append(line.strip());
            }
        }
        return sb.toString();
    }

    static boolean onPath(String cmd) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, cmd))) {
                return true;
            }
        }
        return false;
    }
}

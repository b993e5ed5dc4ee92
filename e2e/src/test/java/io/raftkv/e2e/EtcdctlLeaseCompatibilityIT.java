package io.raftkv.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The same etcdctl 3.4 lease session runs against real etcd 3.4 and raftkv (3 members each);
 * every command must print the same output and exit with the same code. Lease ids are chosen by
 * each server, so {@code {L1}}/{@code {L2}} in a step stand for the ids that server granted and
 * are masked in outputs; the remaining TTL may differ by the second in which it was read.
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
        return sb.toString();
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
}

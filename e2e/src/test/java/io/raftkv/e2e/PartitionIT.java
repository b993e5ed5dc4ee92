package io.raftkv.e2e;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Isolating the leader with real packet drops (nftables between per-member loopback addresses):
 * it steps down; a linearizable read through it fails rather than return stale data; a
 * serializable read through it may be stale (documented etcd behaviour); after healing it
 * catches up.
 */
class PartitionIT {

    @Test
    void isolatedLeaderStepsDownAndNeverServesAStaleLinearizableRead() throws Exception {
        assumeTrue(Nft.available(), "nftables with root rights is not available here");
        try (LocalCluster c = LocalCluster.startOnDistinctHosts(LocalCluster.Kind.RAFTKV, 3);
             Nft nft = Nft.create()) {
            assertThat(c.etcdctl("put", "key", "v1").exitCode()).isZero();
            int leader = c.leaderIndex();
            assertThat(leader).isNotNegative();
            List<String> others = new ArrayList<>();
            List<String> otherEndpoints = new ArrayList<>();
            for (int i = 0; i < c.size(); i++) {
                if (i != leader) {
                    others.add(c.host(i));
                    otherEndpoints.add(c.clientUrl(i));
                }
            }
            nft.isolate(c.host(leader), others);

            // The majority elects a new leader and takes a write.
            String majority = String.join(",", otherEndpoints);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() ->
                    c.etcdctlAt(majority, null, "put", "key", "v2").exitCode() == 0);

            // The old leader steps down (check-quorum) ...
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() ->
                    !c.etcdctlAt(c.clientUrl(leader), null, "endpoint", "status").stdout().contains(", true, "));
            // ... and a linearizable read through it fails instead of returning v1.
            LocalCluster.Result lin = c.etcdctlAt(c.clientUrl(leader), null, "--command-timeout=3s", "get", "key",
                    "--print-value-only");
            assertThat(lin.stdout()).doesNotContain("v1");
            assertThat(lin.exitCode()).as("linearizable read through an isolated member").isNotZero();
            // A serializable read is local and may be stale: that is its documented contract.
            LocalCluster.Result ser = c.etcdctlAt(c.clientUrl(leader), null, "get", "key", "--print-value-only",
                    "--consistency=s");
            assertThat(ser.stdout().strip()).isIn("v1", "v2");

            nft.heal();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                LocalCluster.Result r = c.etcdctlAt(c.clientUrl(leader), null, "get", "key", "--print-value-only");
                return r.exitCode() == 0 && r.stdout().strip().equals("v2");
            });
        }
    }
}

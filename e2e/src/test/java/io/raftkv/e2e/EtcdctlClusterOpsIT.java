package io.raftkv.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The cluster operations an etcd operator runs with etcdctl 3.4, in order, on one 5-member raftkv
 * cluster: status and health, member list, move-leader, adding a learner and starting it
 * (--initial-cluster-state existing), promoting it once caught up, removing a member, and
 * snapshot save. Outputs are checked against the format etcd 3.4's etcdctl prints for etcd
 * (the same printers; only ids, terms and indexes differ), so each step asserts structure.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EtcdctlClusterOpsIT {

    /** How far a caught-up learner's applied index may trail the leader's (a heartbeat or two). */
    private static final long CAUGHT_UP_SLACK_ENTRIES = 5;

    /** One element of {@code etcdctl endpoint status -w json}; ids are raw uint64 bits. */
    record EndpointStatus(String endpoint, long clusterId, long memberId, long leader, long raftTerm,
                          long raftAppliedIndex, boolean learner) {
        boolean isLeader() {
            return memberId == leader;
        }
    }

    private LocalCluster cluster;
    /** Slot of the learner added in {@link #memberAddLearnerPrintsTheFlagsToStartIt()}; -1 before. */
    private int learner = -1;
    private long learnerId;
    private long clusterIdFromMemberAdd;
    /** Slot of the member removed in {@link #memberRemoveLeavesAWritableCluster()}; -1 before. */
    private int removedSlot = -1;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(EtcdctlCompatibilityIT.onPath("etcdctl"), "etcdctl 3.4 is not installed");
        cluster = LocalCluster.start(LocalCluster.Kind.RAFTKV, 5);
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void endpointStatusShowsFiveMembersOneLeaderAndOneTerm() throws Exception {
        // Eventually rather than at once: on a loaded machine an election may be under way.
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
            List<EndpointStatus> all = status(cluster.endpoints());
            assertThat(all).hasSize(5);
            assertThat(all).filteredOn(EndpointStatus::isLeader).as("members reporting themselves leader").hasSize(1);
            assertThat(all).extracting(EndpointStatus::leader).as("leader id seen by each member").containsOnly(all.get(0).leader());
            assertThat(all).extracting(EndpointStatus::raftTerm).as("raft term").containsOnly(all.get(0).raftTerm());
            assertThat(all).extracting(EndpointStatus::clusterId).as("cluster id").containsOnly(all.get(0).clusterId());
            assertThat(all).extracting(EndpointStatus::memberId).as("member ids").doesNotHaveDuplicates();
            assertThat(all).noneMatch(EndpointStatus::learner);
        });
    }

    @Test
    @Order(2)
    void endpointHealthReportsEveryMemberHealthy() throws Exception {
        LocalCluster.Result table = okEventually(cluster.endpoints(), "endpoint", "health");
        // etcdctl 3.4 prints the health lines on stderr (as it does for etcd).
        List<String> lines = table.stderr().lines().toList();
        assertThat(lines).hasSize(5);
        // etcdctl's own line for a healthy endpoint: "<ep> is healthy: successfully committed proposal: took = <d>"
        assertThat(lines).allMatch(l -> l.matches("http://127\\.0\\.0\\.1:\\d+ is healthy: successfully committed proposal: took = \\S+"));
        LocalCluster.Result json = okEventually(cluster.endpoints(), "endpoint", "health", "-w", "json");
        assertThat(count(json.stdout(), "\"health\":true")).isEqualTo(5);
        assertThat(json.stdout()).doesNotContain("\"health\":false");
    }

    @Test
    @Order(3)
    void memberListShowsFiveStartedVoters() throws Exception {
        // Eventually: as in etcd, a member's client URLs are listed once it has published them
        // through the log after starting (until then its line shows none).
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
            List<String> lines = okEventually(cluster.endpoints(), "member", "list").stdout().lines().toList();
            assertThat(lines).hasSize(5);
            for (int i = 0; i < 5; i++) {
                // etcdctl: "<id %x>, <started|unstarted>, <name>, <peer urls>, <client urls>, <is learner>"
                String want = "[0-9a-f]+, started, " + cluster.name(i) + ", " + Pattern.quote(cluster.peerUrl(i)) + ", "
                        + Pattern.quote(cluster.clientUrl(i)) + ", false";
                assertThat(lines).as("member list line of " + cluster.name(i)).anyMatch(l -> l.matches(want));
            }
        });
        List<EndpointStatus> status = status(cluster.endpoints());
        String json = okEventually(cluster.endpoints(), "member", "list", "-w", "json").stdout();
        for (EndpointStatus s : status) {
            assertThat(json).contains("\"ID\":" + Long.toUnsignedString(s.memberId()) + ",");
        }
    }

    @Test
    @Order(4)
    void moveLeaderSentToTheLeaderTransfersLeadership() throws Exception {
        // etcdctl refuses ("no leader endpoint given") if leadership moved since we looked: look again.
        EndpointStatus[] moved = new EndpointStatus[2];
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            EndpointStatus leader = stableLeader();
            EndpointStatus target = status(cluster.endpoints()).stream().filter(s -> !s.isLeader()).findFirst().orElseThrow();
            LocalCluster.Result r = ok(cluster.etcdctlAt(leader.endpoint(), null, "move-leader", hex(target.memberId())));
            moved[0] = leader;
            moved[1] = target;
            assertThat(r.stdout().strip()).isEqualTo("Leadership transferred from " + hex(leader.memberId()) + " to " + hex(target.memberId()));
        });
        EndpointStatus target = moved[1];
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            List<EndpointStatus> all = status(cluster.endpoints());
            assertThat(all).extracting(EndpointStatus::leader).containsOnly(target.memberId());
            assertThat(all).extracting(EndpointStatus::raftTerm).as("one term").containsOnly(all.get(0).raftTerm());
        });
    }

    @Test
    @Order(5)
    void memberAddLearnerPrintsTheFlagsToStartIt() throws Exception {
        // Something for the learner to catch up on.
        for (int i = 0; i < 10; i++) {
            okEventually(cluster.endpoints(), "put", "ops/" + i, "v" + i);
        }
        // The members running now; the new one is not started until the next step.
        String started = cluster.endpoints();
        EndpointStatus leader = stableLeader();
        long clusterId = leader.clusterId();
        learner = cluster.addMemberSlot();
        String peer = cluster.peerUrl(learner);
        LocalCluster.Result r = ok(cluster.etcdctlAt(leader.endpoint(), null, "member", "add", cluster.name(learner), "--learner", "--peer-urls=" + peer));
        Matcher m = Pattern.compile("Member +([0-9a-f]+) added to cluster +([0-9a-f]+)\n\n"
                + "ETCD_NAME=\"" + cluster.name(learner) + "\"\n"
                + "ETCD_INITIAL_CLUSTER=\"([^\"]+)\"\n"
                + "ETCD_INITIAL_ADVERTISE_PEER_URLS=\"" + Pattern.quote(peer) + "\"\n"
                + "ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n").matcher(r.stdout());
        assertThat(m.matches()).as("member add output\n" + r.stdout()).isTrue();
        learnerId = Long.parseUnsignedLong(m.group(1), 16);
        clusterIdFromMemberAdd = Long.parseUnsignedLong(m.group(2), 16);
        List<String> initialCluster = List.of(m.group(3).split(","));
        List<String> want = new ArrayList<>();
        for (int i = 0; i <= learner; i++) {
            want.add(cluster.name(i) + "=" + cluster.peerUrl(i));
        }
        assertThat(initialCluster).containsExactlyInAnyOrderElementsOf(want);
        assertThat(clusterIdFromMemberAdd).isEqualTo(clusterId);

        List<String> lines = okEventually(started, "member", "list").stdout().lines().toList();
        assertThat(lines).hasSize(6).contains(hex(learnerId) + ", unstarted, , " + peer + ", , true");
    }

    @Test
    @Order(6)
    void startedLearnerCatchesUpAndIsPromotedByTheLeader() throws Exception {
        assertThat(learner).as("a learner was added").isPositive();
        cluster.startMember(learner);
        String learnerUrl = cluster.clientUrl(learner);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() -> {
            EndpointStatus l = status(learnerUrl).get(0);
            EndpointStatus leader = stableLeader();
            assertThat(l.learner()).isTrue();
            assertThat(l.memberId()).isEqualTo(learnerId);
            assertThat(l.leader()).isEqualTo(leader.memberId());
            assertThat(l.raftAppliedIndex()).isGreaterThanOrEqualTo(leader.raftAppliedIndex() - CAUGHT_UP_SLACK_ENTRIES);
        });
        // Sent to a follower (neither the leader nor the learner): etcd forwards MemberPromote to
        // the leader, which alone knows whether the learner has caught up; raftkv does the same.
        EndpointStatus leader = stableLeader();
        String follower = status(cluster.endpoints()).stream()
                .filter(st -> st.memberId() != leader.memberId() && st.memberId() != learnerId)
                .findFirst().orElseThrow().endpoint();
        LocalCluster.Result r = ok(cluster.etcdctlAt(follower, null, "member", "promote", hex(learnerId)));
        assertThat(r.stdout().strip()).isEqualTo("Member " + hex16(learnerId) + " promoted in cluster " + hex16(clusterIdFromMemberAdd));
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).untilAsserted(() ->
                assertThat(okEventually(cluster.endpoints(), "member", "list").stdout().lines().toList()).hasSize(6)
                        .contains(hex(learnerId) + ", started, " + cluster.name(learner) + ", " + cluster.peerUrl(learner)
                                + ", " + learnerUrl + ", false"));
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                assertThat(status(learnerUrl).get(0).learner()).as("isLearner after promote").isFalse());
        // The new voter answers reads with the data written before it joined.
        assertThat(okEventually(learnerUrl, "get", "ops/9").stdout()).isEqualTo("ops/9\nv9\n");
    }

    @Test
    @Order(7)
    void joinedMemberReportsTheClusterIdItJoined() throws Exception {
        assertThat(learner).as("a learner was added").isPositive();
        // etcd: a member started with --initial-cluster-state existing adopts the cluster id of the
        // running cluster (etcdserver.NewServer, GetClusterFromRemotePeers), so every member's
        // response header carries the same cluster_id.
        List<EndpointStatus> all = status(cluster.endpoints());
        assertThat(all).hasSize(6);
        assertThat(all).extracting(EndpointStatus::clusterId).as("cluster_id of n1..n6 (n6 joined)")
                .containsOnly(clusterIdFromMemberAdd);
    }

    @Test
    @Order(8)
    void memberRemoveLeavesAWritableCluster() throws Exception {
        EndpointStatus leader = stableLeader();
        int victim = -1;
        for (int i = 0; i < 5 && victim < 0; i++) {
            if (!cluster.clientUrl(i).equals(leader.endpoint())) {
                victim = i;
            }
        }
        long victimId = status(cluster.clientUrl(victim)).get(0).memberId();
        LocalCluster.Result r = ok(cluster.etcdctlAt(leader.endpoint(), null, "member", "remove", hex(victimId)));
        assertThat(r.stdout().strip()).isEqualTo("Member " + hex16(victimId) + " removed from cluster " + hex16(clusterIdFromMemberAdd));
        removedSlot = victim;
        String others = endpointsExcept(victim);
        List<String> lines = okEventually(others, "member", "list").stdout().lines().toList();
        assertThat(lines).hasSize(5).noneMatch(l -> l.startsWith(hex(victimId) + ","));
        okEventually(others, "put", "after-remove", "yes");
        assertThat(okEventually(others, "get", "after-remove").stdout()).isEqualTo("after-remove\nyes\n");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
            List<EndpointStatus> rest = status(others);
            assertThat(rest).hasSize(5);
            assertThat(rest).filteredOn(EndpointStatus::isLeader).hasSize(1);
        });
    }

    @Test
    @Order(9)
    void removedMemberStopsItself() throws Exception {
        assertThat(removedSlot).as("a member was removed").isNotNegative();
        try {
            // etcd: a removed member exits once it learns of its removal ("the member has been
            // permanently removed from the cluster"), from its own log or from its peers' refusal.
            assertThat(cluster.process(removedSlot).waitFor(10, TimeUnit.SECONDS))
                    .as(cluster.name(removedSlot) + " process exited within 10 s of member remove").isTrue();
        } finally {
            cluster.forgetRemovedMember(removedSlot);
        }
    }

    @Test
    @Order(10)
    void snapshotSaveWritesAPageAlignedFileWithItsChecksum(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("snap.db");
        LocalCluster.Result r = ok(cluster.etcdctlAt(stableLeader().endpoint(), null, "snapshot", "save", file.toString()));
        assertThat(r.stdout().strip()).isEqualTo("Snapshot saved at " + file);
        long size = Files.size(file);
        // etcd's snapshot is the bolt file (whole pages) followed by the sha256 of those pages, which
        // etcdctl snapshot restore checks.
        assertThat(size).isGreaterThan(32);
        assertThat(size % 512).as("size %d mod 512", size).isEqualTo(32);
        byte[] bytes = Files.readAllBytes(file);
        byte[] body = Arrays.copyOfRange(bytes, 0, bytes.length - 32);
        byte[] trailer = Arrays.copyOfRange(bytes, bytes.length - 32, bytes.length);
        assertThat(trailer).as("trailing sha256").isEqualTo(MessageDigest.getInstance("SHA-256").digest(body));
    }

    private LocalCluster.Result ok(LocalCluster.Result r) throws Exception {
        assertThat(r.exitCode()).as("etcdctl exit code; stderr:\n" + r.stderr() + "\n" + cluster.logs()).isZero();
        return r;
    }

    private String endpointsExcept(int skip) {
        List<String> eps = new ArrayList<>();
        for (String e : cluster.endpoints().split(",")) {
            if (!e.equals(cluster.clientUrl(skip))) {
                eps.add(e);
            }
        }
        return String.join(",", eps);
    }

    /**
     * Runs etcdctl until it exits 0, for 30 s at most: for reads and idempotent writes, which a
     * client retries when an election on a loaded machine makes a request time out.
     */
    private LocalCluster.Result okEventually(String endpoints, String... args) {
        LocalCluster.Result[] last = new LocalCluster.Result[1];
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).untilAsserted(() ->
                last[0] = ok(cluster.etcdctlAt(endpoints, null, args)));
        return last[0];
    }

    /** The leader, once every running member reports the same one. */
    private EndpointStatus stableLeader() {
        EndpointStatus[] leader = new EndpointStatus[1];
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
            List<EndpointStatus> all = status(cluster.endpoints());
            assertThat(all).extracting(EndpointStatus::leader).as("leader seen by each member").containsOnly(all.get(0).leader());
            leader[0] = all.stream().filter(EndpointStatus::isLeader).findFirst()
                    .orElseThrow(() -> new AssertionError("no member reports itself leader"));
        });
        return leader[0];
    }

    private static final Pattern STATUS_ELEMENT = Pattern.compile("\\{\"Endpoint\":\"([^\"]+)\",\"Status\":(\\{.*?\\}\\})(?=,\\{\"Endpoint\"|\\]$)");

    /** Runs {@code etcdctl endpoint status -w json} against {@code endpoints} and parses each element. */
    private List<EndpointStatus> status(String endpoints) throws Exception {
        LocalCluster.Result r = okEventually(endpoints, "endpoint", "status", "-w", "json");
        List<EndpointStatus> out = new ArrayList<>();
        Matcher m = STATUS_ELEMENT.matcher(r.stdout().strip());
        while (m.find()) {
            String s = m.group(2);
            out.add(new EndpointStatus(m.group(1), uint64(s, "cluster_id"), uint64(s, "member_id"), uint64(s, "leader"),
                    uint64(s, "raftTerm"), uint64(s, "raftAppliedIndex"), s.contains("\"isLearner\":true")));
        }
        assertThat(out).as("parsed endpoint status of " + endpoints + "\n" + r.stdout()).hasSize(endpoints.split(",").length);
        return out;
    }

    private static long uint64(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\":(\\d+)").matcher(json);
        assertThat(m.find()).as(field + " in " + json).isTrue();
        return Long.parseUnsignedLong(m.group(1));
    }

    /** A member or cluster id as etcdctl prints it in lists and move-leader ({@code %x}). */
    private static String hex(long id) {
        return Long.toHexString(id);
    }

    /** An id as etcdctl's member add, promote and remove messages print it ({@code %16x}, space padded). */
    private static String hex16(long id) {
        return String.format("%16x", id);
    }

    private static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}

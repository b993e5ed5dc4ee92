package io.raftkv.e2e;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.cluster.Member;
import io.etcd.jetcd.cluster.MemberAddResponse;
import io.etcd.jetcd.kv.DeleteResponse;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.PutResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.maintenance.HashKVResponse;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * jetcd 0.8.7, a second real etcd client (Java, grpc-java), against a 3-member raftkv cluster:
 * the KV, Txn, compaction, Cluster and Maintenance calls it exposes, with etcd's semantics and
 * error messages. Each test uses its own key prefix, so the order of tests does not matter.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JetcdClientIT {

    private static final long TIMEOUT_S = 10;

    private LocalCluster cluster;
    private Client client;

    @BeforeAll
    void start() throws Exception {
        cluster = LocalCluster.start(LocalCluster.Kind.RAFTKV, 3);
        client = Client.builder().endpoints(cluster.endpoints().split(",")).build();
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
    void putGetPrefixAndDeleteReturnPreviousValues() throws Exception {
        KV kv = client.getKVClient();
        for (int i = 1; i <= 3; i++) {
            PutResponse first = get(kv.put(bs("kv/" + i), bs("a" + i), PutOption.builder().withPrevKV().build()));
            assertThat(first.hasPrevKv()).as("no previous value on first put").isFalse();
        }
        PutResponse again = get(kv.put(bs("kv/2"), bs("b2"), PutOption.builder().withPrevKV().build()));
        assertThat(again.hasPrevKv()).isTrue();
        assertThat(str(again.getPrevKv().getValue())).isEqualTo("a2");
        assertThat(again.getPrevKv().getVersion()).isEqualTo(1);

        GetResponse one = get(kv.get(bs("kv/2")));
        assertThat(one.getKvs()).singleElement().satisfies(x -> {
            assertThat(str(x.getValue())).isEqualTo("b2");
            assertThat(x.getVersion()).isEqualTo(2);
            assertThat(x.getModRevision()).isEqualTo(again.getHeader().getRevision());
        });

        GetResponse prefix = get(kv.get(bs("kv/"), GetOption.builder().isPrefix(true).build()));
        assertThat(prefix.getCount()).isEqualTo(3);
        assertThat(prefix.getKvs()).extracting(JetcdClientIT::entry)
                .containsExactly("kv/1=a1", "kv/2=b2", "kv/3=a3");

        DeleteResponse deleted = get(kv.delete(bs("kv/"), DeleteOption.builder().isPrefix(true).withPrevKV(true).build()));
        assertThat(deleted.getDeleted()).isEqualTo(3);
        assertThat(deleted.getPrevKvs()).extracting(JetcdClientIT::entry)
                .containsExactly("kv/1=a1", "kv/2=b2", "kv/3=a3");
        assertThat(get(kv.get(bs("kv/"), GetOption.builder().isPrefix(true).build())).getCount()).isZero();
        assertThat(get(kv.delete(bs("kv/1"))).getDeleted()).as("deleting a missing key").isZero();
    }

    @Test
    void txnTakesTheSuccessBranchWhenEveryCompareHolds() throws Exception {
        KV kv = client.getKVClient();
        long rev = get(kv.put(bs("txn/a"), bs("1"))).getHeader().getRevision();
        TxnResponse r = get(kv.txn()
                .If(new Cmp(bs("txn/a"), Cmp.Op.EQUAL, CmpTarget.value(bs("1"))),
                        new Cmp(bs("txn/a"), Cmp.Op.EQUAL, CmpTarget.modRevision(rev)),
                        new Cmp(bs("txn/missing"), Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(bs("txn/b"), bs("then"), PutOption.DEFAULT), Op.get(bs("txn/a"), GetOption.DEFAULT))
                .Else(Op.put(bs("txn/b"), bs("else"), PutOption.DEFAULT))
                .commit());
        assertThat(r.isSucceeded()).isTrue();
        assertThat(r.getPutResponses()).hasSize(1);
        assertThat(r.getGetResponses()).singleElement()
                .satisfies(g -> assertThat(str(g.getKvs().get(0).getValue())).isEqualTo("1"));
        assertThat(r.getHeader().getRevision()).as("one revision for the whole txn").isEqualTo(rev + 1);
        assertThat(str(get(kv.get(bs("txn/b"))).getKvs().get(0).getValue())).isEqualTo("then");
    }

    @Test
    void txnTakesTheFailureBranchWhenACompareFails() throws Exception {
        KV kv = client.getKVClient();
        get(kv.put(bs("txn2/a"), bs("1")));
        TxnResponse r = get(kv.txn()
                .If(new Cmp(bs("txn2/a"), Cmp.Op.EQUAL, CmpTarget.value(bs("1"))),
                        new Cmp(bs("txn2/a"), Cmp.Op.GREATER, CmpTarget.version(5)))
                .Then(Op.put(bs("txn2/b"), bs("then"), PutOption.DEFAULT))
                .Else(Op.put(bs("txn2/b"), bs("else"), PutOption.DEFAULT),
                        Op.delete(bs("txn2/a"), DeleteOption.builder().withPrevKV(true).build()))
                .commit());
        assertThat(r.isSucceeded()).isFalse();
        assertThat(r.getDeleteResponses()).singleElement().satisfies(d -> {
            assertThat(d.getDeleted()).isEqualTo(1);
            assertThat(d.getPrevKvs()).extracting(x -> str(x.getValue())).containsExactly("1");
        });
        assertThat(str(get(kv.get(bs("txn2/b"))).getKvs().get(0).getValue())).isEqualTo("else");
        assertThat(get(kv.get(bs("txn2/a"))).getCount()).isZero();
    }

    @Test
    void readingACompactedRevisionFailsWithEtcdsError() throws Exception {
        KV kv = client.getKVClient();
        long r1 = get(kv.put(bs("compact/k"), bs("v1"))).getHeader().getRevision();
        long r2 = get(kv.put(bs("compact/k"), bs("v2"))).getHeader().getRevision();
        get(kv.put(bs("compact/k"), bs("v3")));
        get(kv.compact(r2));
        assertThatThrownBy(() -> get(kv.get(bs("compact/k"), GetOption.builder().withRevision(r1).build())))
                .satisfies(e -> assertThat(messages(e)).contains("etcdserver: mvcc: required revision has been compacted"));
        // etcd keeps the compaction revision itself readable.
        GetResponse atR2 = get(kv.get(bs("compact/k"), GetOption.builder().withRevision(r2).build()));
        assertThat(atR2.getKvs()).extracting(x -> str(x.getValue())).containsExactly("v2");
        assertThat(str(get(kv.get(bs("compact/k"))).getKvs().get(0).getValue())).isEqualTo("v3");
        assertThatThrownBy(() -> get(kv.compact(r1)))
                .satisfies(e -> assertThat(messages(e)).contains("etcdserver: mvcc: required revision has been compacted"));
    }

    @Test
    void clusterListsAddsALearnerAndRemovesIt() throws Exception {
        List<Member> before = get(client.getClusterClient().listMember()).getMembers();
        assertThat(before).extracting(Member::getName).containsExactlyInAnyOrder("n1", "n2", "n3");
        for (Member m : before) {
            int i = Integer.parseInt(m.getName().substring(1)) - 1;
            assertThat(m.getPeerURIs()).containsExactly(URI.create(cluster.peerUrl(i)));
            assertThat(m.getClientURIs()).containsExactly(URI.create(cluster.clientUrl(i)));
            assertThat(m.isLearner()).isFalse();
        }
        // A learner that is never started: it does not count towards the quorum, so the cluster
        // keeps committing (etcd: learners are non-voting).
        URI peer = URI.create("http://127.0.0.1:" + unusedPort());
        MemberAddResponse added = get(client.getClusterClient().addMember(List.of(peer), true));
        Member learner = added.getMember();
        assertThat(learner.isLearner()).isTrue();
        assertThat(learner.getPeerURIs()).containsExactly(peer);
        assertThat(learner.getName()).as("unstarted member has no name yet").isEmpty();
        assertThat(added.getMembers()).extracting(Member::getId).contains(learner.getId()).hasSize(4);
        // MemberList is answered from the member's own table (as in etcd 3.4), so a member that
        // has not applied the change yet may lag for a moment: wait for it.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(get(client.getClusterClient().listMember()).getMembers()).hasSize(4)
                        .filteredOn(Member::isLearner).extracting(Member::getId).containsExactly(learner.getId()));
        get(client.getKVClient().put(bs("cluster/with-learner"), bs("ok")));

        List<Member> after = get(client.getClusterClient().removeMember(learner.getId())).getMembers();
        assertThat(after).extracting(Member::getId).containsExactlyInAnyOrderElementsOf(before.stream().map(Member::getId).toList());
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(get(client.getClusterClient().listMember()).getMembers()).hasSize(3));
    }

    @Test
    void everyMemberReportsTheSameStatusAndTheSameKvHash() throws Exception {
        KV kv = client.getKVClient();
        for (int i = 0; i < 30; i++) {
            get(kv.put(bs("hash/" + i), bs("v" + i)));
        }
        get(kv.delete(bs("hash/7")));
        List<StatusResponse> status = new ArrayList<>();
        for (int i = 0; i < cluster.size(); i++) {
            status.add(get(client.getMaintenanceClient().statusMember(cluster.clientUrl(i))));
        }
        assertThat(status).filteredOn(s -> s.getLeader() == s.getHeader().getMemberId()).hasSize(1);
        assertThat(status).extracting(StatusResponse::getLeader).containsOnly(status.get(0).getLeader());
        assertThat(status).extracting(StatusResponse::getRaftTerm).containsOnly(status.get(0).getRaftTerm());
        assertThat(status).extracting(s -> s.getHeader().getMemberId()).doesNotHaveDuplicates();
        assertThat(status).extracting(StatusResponse::getVersion).allMatch(v -> v.startsWith("3.4."));
        // Followers apply asynchronously: wait until all hash the same revision, then the hashes agree.
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            List<HashKVResponse> hashes = new ArrayList<>();
            for (int i = 0; i < cluster.size(); i++) {
                hashes.add(get(client.getMaintenanceClient().hashKV(cluster.clientUrl(i), 0)));
            }
            assertThat(hashes).extracting(h -> h.getHeader().getRevision()).containsOnly(hashes.get(0).getHeader().getRevision());
            assertThat(hashes).extracting(HashKVResponse::getHash).as("hashKV of each member").containsOnly(hashes.get(0).getHash());
        });
    }

    @Test
    void moveLeaderSentToTheLeaderTransfersLeadershipAndAFollowerRefuses() throws Exception {
        int leader = -1;
        long leaderId = 0;
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < cluster.size(); i++) {
            StatusResponse s = get(client.getMaintenanceClient().statusMember(cluster.clientUrl(i)));
            ids.add(s.getHeader().getMemberId());
            if (s.getLeader() == s.getHeader().getMemberId()) {
                leader = i;
                leaderId = s.getLeader();
            }
        }
        assertThat(leader).as("a leader").isNotNegative();
        int follower = (leader + 1) % cluster.size();
        int other = (leader + 2) % cluster.size();
        long targetId = ids.get(follower);
        // etcd: MoveLeader is served by the leader only; a follower answers "not leader".
        try (Client atFollower = Client.builder().endpoints(cluster.clientUrl(other)).build()) {
            assertThatThrownBy(() -> get(atFollower.getMaintenanceClient().moveLeader(targetId)))
                    .satisfies(e -> assertThat(messages(e)).contains("etcdserver: not leader"));
        }
        try (Client atLeader = Client.builder().endpoints(cluster.clientUrl(leader)).build()) {
            get(atLeader.getMaintenanceClient().moveLeader(targetId));
        }
        long oldLeader = leaderId;
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            for (int i = 0; i < cluster.size(); i++) {
                StatusResponse s = get(client.getMaintenanceClient().statusMember(cluster.clientUrl(i)));
                assertThat(s.getLeader()).as("leader seen by n" + (i + 1) + " (was " + Long.toHexString(oldLeader) + ")")
                        .isEqualTo(targetId);
            }
        });
        get(client.getKVClient().put(bs("moved/k"), bs("v")));
        assertThat(get(client.getKVClient().get(bs("moved/k"))).getCount()).isEqualTo(1);
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(TIMEOUT_S, TimeUnit.SECONDS);
    }

    /** The messages of {@code e} and all its causes, joined: jetcd wraps the gRPC status. */
    static String messages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append('\n');
        }
        return sb.toString();
    }

    private static int unusedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static ByteSequence bs(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    static String str(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    /** "key=value", for comparing lists of key-values. */
    static String entry(KeyValue kv) {
        return str(kv.getKey()) + "=" + str(kv.getValue());
    }
}

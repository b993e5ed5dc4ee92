package io.raftkv.e2e;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.api.Member;
import io.etcd.jetcd.options.GetOption;
import io.grpc.StatusRuntimeException;
import io.raftkv.e2e.ChangeMembersCall.Change;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * raftkv.v1.Membership/ChangeMembers against real node processes: two members replaced in one
 * joint-consensus change (what the operator does to replace failed members), sent to a learner
 * so that the request is forwarded to the leader, under a steady write load.
 */
class MembershipChangeIT {
    private static final String LEARNER_NOT_READY = "etcdserver: can only promote a learner member which is in sync with leader";

    private static List<Member> changeMembers(String url, List<Change> changes) {
        return ChangeMembersCall.send(url, changes, Duration.ofSeconds(15));
    }

    private static ByteSequence bs(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    /** name -> "voter" or "learner", as member {@code url} lists them. */
    private static Map<String, String> members(String url) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Client one = Client.builder().endpoints(url).build()) {
            for (io.etcd.jetcd.cluster.Member m : one.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers()) {
                out.put(m.getName(), m.isLearner() ? "learner" : "voter");
            }
        }
        return out;
    }

    @Test
    void replacingTwoMembersInOneJointChangeSentToALearnerKeepsEveryAcknowledgedWrite() throws Exception {
        try (LocalCluster c = LocalCluster.start(LocalCluster.Kind.RAFTKV, 3)) {
            c.awaitHealthy(Duration.ofSeconds(60));
            Set<String> acked = ConcurrentHashMap.newKeySet();
            AtomicBoolean stop = new AtomicBoolean();
            Thread writer;
            try (Client toFirst = Client.builder().endpoints(c.clientUrl(0)).build()) {
                KV kv = toFirst.getKVClient();
                writer = new Thread(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        String k = "replace/" + i;
                        try {
                            kv.put(bs(k), bs("v" + i)).get(5, TimeUnit.SECONDS);
                            acked.add(k);
                        } catch (Exception e) {
                            // not acknowledged: may or may not be present
                        }
                    }
                });
                writer.start();

                // 1. two learners in one change
                int a = c.addMemberSlot();
                int b = c.addMemberSlot();
                List<Member> added = changeMembers(c.clientUrl(0), List.of(
                        new Change(ChangeMembersCall.ADD_LEARNER, 0, c.name(a), c.peerUrl(a)),
                        new Change(ChangeMembersCall.ADD_LEARNER, 0, c.name(b), c.peerUrl(b))));
                assertThat(added).extracting(Member::getName).containsExactly(c.name(a), c.name(b));
                assertThat(added).allMatch(Member::getIsLearner);
                assertThat(members(c.clientUrl(0))).containsEntry(c.name(a), "learner").containsEntry(c.name(b), "learner");
                c.startMember(a);
                c.startMember(b);
                c.awaitHealthy(Duration.ofSeconds(60));

                // 2. remove n2 and n3, promote both learners: one joint change, sent to learner a
                Map<String, Long> ids = new TreeMap<>();
                for (io.etcd.jetcd.cluster.Member m : toFirst.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers()) {
                    ids.put(m.getName(), m.getId());
                }
                List<Change> replace = List.of(
                        new Change(ChangeMembersCall.REMOVE, ids.get(c.name(1)), null, null),
                        new Change(ChangeMembersCall.REMOVE, ids.get(c.name(2)), null, null),
                        new Change(ChangeMembersCall.ADD_VOTER, ids.get(c.name(a)), null, null),
                        new Change(ChangeMembersCall.ADD_VOTER, ids.get(c.name(b)), null, null));
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    try {
                        changeMembers(c.clientUrl(a), replace);
                        return true;
                    } catch (StatusRuntimeException e) {
                        // a learner still catching up is the only refusal worth retrying
                        assertThat(e.getStatus().getDescription()).as("ChangeMembers refusal").isEqualTo(LEARNER_NOT_READY);
                        return false;
                    }
                });
                Map<String, String> after = members(c.clientUrl(a));
                assertThat(after).as("members after the joint change, as the forwarding learner lists them")
                        .isEqualTo(Map.of(c.name(0), "voter", c.name(a), "voter", c.name(b), "voter"));

                // 3. the removed members learn it and stop by themselves
                await().atMost(Duration.ofSeconds(60)).until(() -> !c.process(1).isAlive() && !c.process(2).isAlive());
                c.forgetRemovedMember(1);
                c.forgetRemovedMember(2);
                await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() > 20);
                stop.set(true);
                writer.join(30_000);
            }

            // 4. the new members are voters of a quorum: with n1 killed, {a, b} still commit
            c.kill(0);
            String survivors = c.clientUrl(3) + "," + c.clientUrl(4);
            try (Client client = Client.builder().endpoints(survivors.split(",")).build()) {
                KV kv = client.getKVClient();
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                        .until(() -> kv.put(bs("after-replace"), bs("ok")).get(3, TimeUnit.SECONDS) != null);
                Set<String> present = new TreeSet<>();
                kv.get(bs("replace/"), GetOption.builder().isPrefix(true).withKeysOnly(true).build())
                        .get(10, TimeUnit.SECONDS).getKvs()
                        .forEach(kvp -> present.add(kvp.getKey().toString(StandardCharsets.UTF_8)));
                Set<String> lost = acked.stream().filter(k -> !present.contains(k)).collect(Collectors.toCollection(TreeSet::new));
                assertThat(lost).as("acknowledged writes missing after the replacement (of %d acknowledged)", acked.size()).isEmpty();
            }
        }
    }
}

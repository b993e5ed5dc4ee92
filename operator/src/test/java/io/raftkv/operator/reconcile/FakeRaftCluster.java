package io.raftkv.operator.reconcile;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.raftkv.operator.member.Member;
import io.raftkv.operator.member.MemberClient;
import io.raftkv.operator.member.MemberClientException;
import io.raftkv.operator.member.NodeStatus;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A MemberClient over an in-memory member table, for reconciler tests against the mock API server:
 * a member answers only while its pod exists in the API server; the initial members form once all
 * bootstrap pods exist; a started member publishes its client URL. Records every accepted change.
 */
final class FakeRaftCluster implements MemberClient {
    private final KubernetesClient kube;
    private final KubernetesTopology topology;
    private final List<Member> members = new ArrayList<>();
    private final AtomicInteger nextId = new AtomicInteger(0x100);
    final List<String> changes = new ArrayList<>();
    final Map<Long, Long> applied = new ConcurrentHashMap<>();
    /** Ordinals whose node does not answer (its process is down), whatever the pod says. */
    final java.util.Set<Integer> down = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private long leaderId;

    FakeRaftCluster(KubernetesClient kube, KubernetesTopology topology) {
        this.kube = kube;
        this.topology = topology;
    }

    long leaderId() {
        return leaderId;
    }

    private boolean podExists(int ordinal) {
        return kube.pods().inNamespace(topology.namespace()).withName(topology.memberName(ordinal)).get() != null;
    }

    private synchronized void formIfBootstrapped() {
        if (!members.isEmpty()) {
            return;
        }
        ConfigMap cm = kube.configMaps().inNamespace(topology.namespace()).withName(topology.bootstrapConfigMapName()).get();
        if (cm == null || cm.getData() == null || !"new".equals(cm.getData().get(ClusterResources.KEY_STATE))) {
            return;
        }
        String[] initial = cm.getData().get(ClusterResources.KEY_INITIAL_CLUSTER).split(",");
        for (int i = 0; i < initial.length; i++) {
            if (!podExists(i)) {
                return;
            }
        }
        for (int i = 0; i < initial.length; i++) {
            String[] kv = initial[i].split("=", 2);
            members.add(new Member(nextId.getAndIncrement(), kv[0], List.of(kv[1]), List.of(topology.clientUrl(i)), false));
        }
        leaderId = members.get(0).id();
    }

    private int ordinalOfClient(String endpoint) {
        for (int i = 0; i < 8; i++) {
            if (topology.clientUrl(i).equals(endpoint)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public synchronized List<Member> memberList(List<String> endpoints) {
        formIfBootstrapped();
        if (members.isEmpty()) {
            throw new MemberClientException("no cluster answers");
        }
        return List.copyOf(members);
    }

    @Override
    public synchronized NodeStatus status(String endpoint) {
        formIfBootstrapped();
        int o = ordinalOfClient(endpoint);
        if (o < 0 || !podExists(o) || down.contains(o)) {
            throw new MemberClientException("unreachable " + endpoint);
        }
        for (int i = 0; i < members.size(); i++) {
            Member m = members.get(i);
            if (m.peerUrl().equals(topology.peerUrl(o))) {
                if (m.clientUrls().isEmpty()) {
                    m = new Member(m.id(), topology.memberName(o), m.peerUrls(), List.of(endpoint), m.learner());
                    members.set(i, m);
                }
                return new NodeStatus(m.id(), leaderId, applied.getOrDefault(m.id(), 1000L), m.learner(), "3.4.23");
            }
        }
        throw new MemberClientException("not a member: " + endpoint);
    }

    @Override
    public synchronized Member addLearner(List<String> endpoints, String peerUrl) {
        Member m = new Member(nextId.getAndIncrement(), "", List.of(peerUrl), List.of(), true);
        members.add(m);
        changes.add("addLearner " + peerUrl);
        return m;
    }

    @Override
    public synchronized void promote(List<String> endpoints, long id) {
        members.replaceAll(m -> m.id() == id ? new Member(m.id(), m.name(), m.peerUrls(), m.clientUrls(), false) : m);
        changes.add("promote " + Long.toHexString(id));
    }

    @Override
    public synchronized void remove(List<String> endpoints, long id) {
        if (id == leaderId) {
            throw new MemberClientException("test cluster: removing the leader is not expected");
        }
        members.removeIf(m -> m.id() == id);
        changes.add("remove " + Long.toHexString(id));
    }

    @Override
    public synchronized Member replace(List<String> endpoints, long oldId, String name, String peerUrl) {
        members.removeIf(m -> m.id() == oldId);
        Member m = new Member(nextId.getAndIncrement(), name, List.of(peerUrl), List.of(), false);
        members.add(m);
        changes.add("replace " + Long.toHexString(oldId));
        return m;
    }

    @Override
    public synchronized void moveLeader(List<String> endpoints, long toId) {
        leaderId = toId;
        changes.add("moveLeader " + Long.toHexString(toId));
    }

    @Override
    public void close() {
    }
}

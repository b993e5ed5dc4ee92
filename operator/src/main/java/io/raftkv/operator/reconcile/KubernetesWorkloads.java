package io.raftkv.operator.reconcile;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.raftkv.operator.driver.Workloads;
import io.raftkv.operator.plan.Observed.BootstrapState;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * {@link Workloads} on Kubernetes objects: the StatefulSet's replicas, its pods and claims, and the
 * bootstrap ConfigMap that the node entrypoint reads. A pod reports a fresh data dir through its
 * container's termination message ({@value ClusterResources#FRESH_DATA_DIR_MESSAGE}). Not
 * thread-safe; one instance per reconcile.
 */
public final class KubernetesWorkloads implements Workloads {
    private final KubernetesClient client;
    private final String namespace;
    private final String name;
    private final KubernetesTopology topology;

    /** Workloads of the cluster laid out by {@code topology}. */
    public KubernetesWorkloads(KubernetesClient client, KubernetesTopology topology) {
        this.client = client;
        this.namespace = topology.namespace();
        this.name = topology.name();
        this.topology = topology;
    }

    private ConfigMap bootstrapMap() {
        return client.configMaps().inNamespace(namespace).withName(topology.bootstrapConfigMapName()).get();
    }

    private void editBootstrap(Map<String, String> changes) {
        client.configMaps().inNamespace(namespace).withName(topology.bootstrapConfigMapName()).edit(cm -> {
            Map<String, String> data = cm.getData() == null ? new HashMap<>() : new HashMap<>(cm.getData());
            data.putAll(changes);
            cm.setData(data);
            return cm;
        });
    }

    @Override
    public BootstrapState bootstrapState() {
        ConfigMap cm = bootstrapMap();
        String s = cm == null || cm.getData() == null ? null : cm.getData().get(ClusterResources.KEY_STATE);
        if ("new".equals(s)) {
            return BootstrapState.NEW;
        }
        return "existing".equals(s) ? BootstrapState.EXISTING : BootstrapState.NONE;
    }

    @Override
    public int statefulSetReplicas() {
        StatefulSet sts = client.apps().statefulSets().inNamespace(namespace).withName(name).get();
        return sts == null || sts.getSpec().getReplicas() == null ? 0 : sts.getSpec().getReplicas();
    }

    @Override
    public List<PodState> pods() {
        List<PodState> out = new ArrayList<>();
        for (Pod p : client.pods().inNamespace(namespace).withLabels(ClusterResources.selector(clusterRef())).list()
                .getItems()) {
            int ordinal = ordinal(p.getMetadata().getName());
            if (ordinal < 0) {
                continue;
            }
            out.add(new PodState(ordinal, version(p), freshDataDir(p), notReadySince(p)));
        }
        out.sort((a, b) -> Integer.compare(a.ordinal(), b.ordinal()));
        return out;
    }

    @Override
    public Set<Integer> claimOrdinals() {
        Set<Integer> out = new TreeSet<>();
        for (PersistentVolumeClaim c : client.persistentVolumeClaims().inNamespace(namespace).list().getItems()) {
            String n = c.getMetadata().getName();
            if (n.startsWith("data-")) {
                int o = ordinal(n.substring("data-".length()));
                if (o >= 0) {
                    out.add(o);
                }
            }
        }
        return out;
    }

    @Override
    public void bootstrap(List<String> initialCluster, int replicas) {
        editBootstrap(Map.of(ClusterResources.KEY_STATE, "new",
                ClusterResources.KEY_INITIAL_CLUSTER, String.join(",", initialCluster)));
        scale(replicas);
    }

    @Override
    public void finishBootstrap() {
        editBootstrap(Map.of(ClusterResources.KEY_STATE, "existing"));
    }

    @Override
    public void admit(Set<Integer> ordinals) {
        String admitted = ordinals.stream().sorted().map(topology::memberName).collect(Collectors.joining(","));
        ConfigMap cm = bootstrapMap();
        String current = cm == null || cm.getData() == null ? null : cm.getData().get(ClusterResources.KEY_ADMITTED);
        if (!admitted.equals(current)) {
            editBootstrap(Map.of(ClusterResources.KEY_ADMITTED, admitted));
        }
    }

    @Override
    public void scale(int replicas) {
        client.apps().statefulSets().inNamespace(namespace).withName(name).edit(s -> {
            s.getSpec().setReplicas(replicas);
            return s;
        });
    }

    @Override
    public void deleteClaim(int ordinal) {
        client.persistentVolumeClaims().inNamespace(namespace).withName(topology.claimName(ordinal)).delete();
    }

    @Override
    public void resetDataDir(int ordinal) {
        deleteClaim(ordinal);
        client.pods().inNamespace(namespace).withName(topology.memberName(ordinal)).delete();
    }

    @Override
    public void restart(int ordinal, String version) {
        client.pods().inNamespace(namespace).withName(topology.memberName(ordinal)).delete();
    }

    private io.raftkv.operator.api.v1alpha1.RaftCluster clusterRef() {
        io.raftkv.operator.api.v1alpha1.RaftCluster rc = new io.raftkv.operator.api.v1alpha1.RaftCluster();
        rc.getMetadata().setName(name);
        return rc;
    }

    private int ordinal(String podName) {
        String prefix = name + "-";
        if (!podName.startsWith(prefix)) {
            return -1;
        }
        try {
            return Integer.parseInt(podName.substring(prefix.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String version(Pod p) {
        String image = p.getSpec().getContainers().stream().filter(c -> c.getName().equals("raftkv")).findFirst()
                .map(c -> c.getImage()).orElse("");
        int colon = image.lastIndexOf(':');
        return colon < 0 || image.indexOf('/', colon) >= 0 ? "latest" : image.substring(colon + 1);
    }

    private static boolean freshDataDir(Pod p) {
        if (p.getStatus() == null || p.getStatus().getContainerStatuses() == null) {
            return false;
        }
        for (ContainerStatus cs : p.getStatus().getContainerStatuses()) {
            for (var st : new io.fabric8.kubernetes.api.model.ContainerState[] {cs.getState(), cs.getLastState()}) {
                if (st != null && st.getTerminated() != null && st.getTerminated().getMessage() != null
                        && st.getTerminated().getMessage().contains(ClusterResources.FRESH_DATA_DIR_MESSAGE)) {
                    return cs.getReady() == null || !cs.getReady();
                }
            }
        }
        return false;
    }

    private static Optional<Instant> notReadySince(Pod p) {
        if (p.getStatus() == null || p.getStatus().getConditions() == null) {
            return Optional.ofNullable(p.getMetadata().getCreationTimestamp()).map(Instant::parse);
        }
        for (PodCondition c : p.getStatus().getConditions()) {
            if ("Ready".equals(c.getType())) {
                if ("True".equals(c.getStatus())) {
                    return Optional.empty();
                }
                return Optional.ofNullable(c.getLastTransitionTime()).map(Instant::parse);
            }
        }
        return Optional.ofNullable(p.getMetadata().getCreationTimestamp()).map(Instant::parse);
    }
}

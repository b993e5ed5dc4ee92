package io.raftkv.operator.reconcile;

import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.raftkv.operator.api.v1alpha1.PodOverrides;
import io.raftkv.operator.api.v1alpha1.RaftCluster;
import io.raftkv.operator.api.v1alpha1.RaftClusterSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pure builders of the objects a RaftCluster owns. Every object carries the cluster's labels and a
 * controller owner reference, so that deleting the RaftCluster deletes them (claims excepted: the
 * StatefulSet's claims follow the reclaim policy, never the garbage collector).
 */
public final class ClusterResources {
    /** Label with the RaftCluster's name on every owned object and pod. */
    public static final String INSTANCE_LABEL = "app.kubernetes.io/instance";
    /** Label naming the application. */
    public static final String NAME_LABEL = "app.kubernetes.io/name";
    /** Label naming the manager. */
    public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    /** Bootstrap ConfigMap key: new or existing (absent before bootstrap). */
    public static final String KEY_STATE = "initial-cluster-state";
    /** Bootstrap ConfigMap key: the initial cluster, name=peerURL,... */
    public static final String KEY_INITIAL_CLUSTER = "initial-cluster";
    /** Bootstrap ConfigMap key: pod names admitted to start with an empty data dir, comma separated. */
    public static final String KEY_ADMITTED = "admitted";
    /** Bootstrap ConfigMap key: the cluster token. */
    public static final String KEY_TOKEN = "initial-cluster-token";
    /** Where the node container mounts its data volume. */
    public static final String DATA_DIR = "/var/lib/raftkv";
    /** What the entrypoint writes to the termination log when it refuses an empty data dir. */
    public static final String FRESH_DATA_DIR_MESSAGE = "FreshDataDir";

    private ClusterResources() {
    }

    /** Labels selecting this cluster's pods. */
    public static Map<String, String> selector(RaftCluster rc) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(NAME_LABEL, "raftkv");
        m.put(INSTANCE_LABEL, rc.getMetadata().getName());
        return m;
    }

    private static Map<String, String> labels(RaftCluster rc) {
        Map<String, String> m = selector(rc);
        m.put(MANAGED_BY_LABEL, "raftkv-operator");
        return m;
    }

    private static OwnerReference owner(RaftCluster rc) {
        return new OwnerReferenceBuilder().withApiVersion(rc.getApiVersion()).withKind(rc.getKind())
                .withName(rc.getMetadata().getName()).withUid(rc.getMetadata().getUid())
                .withController(true).withBlockOwnerDeletion(true).build();
    }

    private static ObjectMeta meta(RaftCluster rc, String name) {
        return new ObjectMetaBuilder().withName(name).withNamespace(rc.getMetadata().getNamespace())
                .withLabels(labels(rc)).withOwnerReferences(owner(rc)).build();
    }

    /** The headless Service that gives members stable DNS names; not-ready pods are published so members find each other while starting. */
    public static Service peerService(RaftCluster rc, KubernetesTopology t) {
        return new ServiceBuilder().withMetadata(meta(rc, t.peerServiceName())).withNewSpec()
                .withClusterIP("None").withPublishNotReadyAddresses(true).withSelector(selector(rc))
                .addNewPort().withName("client").withPort(KubernetesTopology.CLIENT_PORT).endPort()
                .addNewPort().withName("peer").withPort(KubernetesTopology.PEER_PORT).endPort()
                .endSpec().build();
    }

    /** The Service applications use: ready members only. */
    public static Service clientService(RaftCluster rc, KubernetesTopology t) {
        return new ServiceBuilder().withMetadata(meta(rc, t.clientServiceName())).withNewSpec()
                .withSelector(selector(rc))
                .addNewPort().withName("client").withPort(KubernetesTopology.CLIENT_PORT)
                .withTargetPort(new IntOrString(KubernetesTopology.CLIENT_PORT)).endPort()
                .endSpec().build();
    }

    /** Allows at most (replicas-1)/2 voluntary disruptions: a drain never takes quorum away. */
    public static PodDisruptionBudget disruptionBudget(RaftCluster rc) {
        int replicas = rc.getSpec().getReplicas();
        return new PodDisruptionBudgetBuilder().withMetadata(meta(rc, rc.getMetadata().getName())).withNewSpec()
                .withMaxUnavailable(new IntOrString((replicas - 1) / 2))
                .withNewSelector().withMatchLabels(selector(rc)).endSelector()
                .endSpec().build();
    }

    /**
     * The bootstrap ConfigMap read by the node entrypoint. {@code current} is the existing one (or
     * null): its state, initial cluster and admissions are kept, since the driver owns them.
     */
    public static ConfigMap bootstrapConfigMap(RaftCluster rc, KubernetesTopology t, ConfigMap current) {
        Map<String, String> data = new LinkedHashMap<>();
        if (current != null && current.getData() != null) {
            data.putAll(current.getData());
        }
        data.putIfAbsent(KEY_TOKEN, rc.getMetadata().getName() + "-" + rc.getMetadata().getUid());
        data.putIfAbsent(KEY_ADMITTED, "");
        return new ConfigMapBuilder().withMetadata(meta(rc, t.bootstrapConfigMapName())).withData(data).build();
    }

    /** The ConfigMap {@code <name>-client} with the endpoint list for applications. */
    public static ConfigMap clientConfigMap(RaftCluster rc, KubernetesTopology t, int members) {
        List<String> urls = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            urls.add(t.clientUrl(i));
        }
        return new ConfigMapBuilder().withMetadata(meta(rc, t.clientConfigMapName()))
                .addToData("endpoint", t.clientEndpoint())
                .addToData("endpoints", String.join(",", urls)).build();
    }

    /**
     * The StatefulSet of nodes with {@code replicas} pods (the driver owns the count). Pods start in
     * parallel (a bootstrapping member is not ready until a quorum is up) and are replaced only when
     * the operator deletes them (OnDelete), so that upgrades go one member at a time in the planner's
     * order.
     */
    public static StatefulSet statefulSet(RaftCluster rc, KubernetesTopology t, int replicas) {
        RaftClusterSpec spec = rc.getSpec();
        PodOverrides pod = spec.getPod() == null ? new PodOverrides() : spec.getPod();
        Container node = new ContainerBuilder().withName("raftkv")
                .withImage(spec.getImage() + ":" + spec.getVersion())
                .withCommand("/opt/raftkv/entrypoint.sh")
                .addNewEnv().withName("POD_NAME").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name")
                .endFieldRef().endValueFrom().endEnv()
                .addNewEnv().withName("PEER_HOST_SUFFIX").withValue("." + t.peerServiceName() + "."
                        + rc.getMetadata().getNamespace() + ".svc").endEnv()
                .addNewEnv().withName("DATA_DIR").withValue(DATA_DIR).endEnv()
                .addNewEnv().withName("HEARTBEAT_INTERVAL").withValue(Integer.toString(
                        spec.getRaft().getHeartbeatIntervalMillis())).endEnv()
                .addNewEnv().withName("ELECTION_TIMEOUT").withValue(Integer.toString(
                        spec.getRaft().getElectionTimeoutMillis())).endEnv()
                .addNewEnv().withName("QUOTA_BACKEND_BYTES").withValue(Long.toString(spec.getQuotaBackendBytes())).endEnv()
                .addNewPort().withName("client").withContainerPort(KubernetesTopology.CLIENT_PORT).endPort()
                .addNewPort().withName("peer").withContainerPort(KubernetesTopology.PEER_PORT).endPort()
                .addNewPort().withName("metrics").withContainerPort(KubernetesTopology.METRICS_PORT).endPort()
                .withNewReadinessProbe().withNewHttpGet().withPath("/readyz")
                .withPort(new IntOrString(KubernetesTopology.METRICS_PORT)).endHttpGet()
                .withPeriodSeconds(5).withFailureThreshold(3).endReadinessProbe()
                .withNewLivenessProbe().withNewHttpGet().withPath("/livez")
                .withPort(new IntOrString(KubernetesTopology.METRICS_PORT)).endHttpGet()
                .withInitialDelaySeconds(10).withPeriodSeconds(10).withFailureThreshold(6).endLivenessProbe()
                .withTerminationMessagePolicy("File")
                .withResources(spec.getResources())
                .addNewVolumeMount().withName("data").withMountPath(DATA_DIR).endVolumeMount()
                .addNewVolumeMount().withName("bootstrap").withMountPath("/etc/raftkv/bootstrap").withReadOnly(true)
                .endVolumeMount()
                .build();
        var claim = new PersistentVolumeClaimBuilder().withNewMetadata().withName("data").withLabels(selector(rc))
                .endMetadata().withNewSpec().withAccessModes("ReadWriteOnce")
                .withStorageClassName(spec.getStorage().getStorageClassName())
                .withNewResources().addToRequests("storage", new Quantity(spec.getStorage().getSize())).endResources()
                .endSpec().build();
        return new StatefulSetBuilder().withMetadata(meta(rc, rc.getMetadata().getName())).withNewSpec()
                .withReplicas(replicas).withServiceName(t.peerServiceName()).withPodManagementPolicy("Parallel")
                .withNewUpdateStrategy().withType("OnDelete").endUpdateStrategy()
                .withNewSelector().withMatchLabels(selector(rc)).endSelector()
                .withNewTemplate().withNewMetadata().withLabels(labels(rc)).endMetadata().withNewSpec()
                .withContainers(node)
                .withAffinity(pod.getAffinity() != null ? pod.getAffinity() : defaultAffinity(rc))
                .withTolerations(pod.getTolerations())
                .withNodeSelector(pod.getNodeSelector())
                .withTopologySpreadConstraints(pod.getTopologySpreadConstraints())
                .addNewVolume().withName("bootstrap").withNewConfigMap().withName(t.bootstrapConfigMapName())
                .endConfigMap().endVolume()
                .endSpec().endTemplate()
                .withVolumeClaimTemplates(claim)
                .endSpec().build();
    }

    /** Prefer one member per Kubernetes node, so that losing a node costs at most one member. */
    static Affinity defaultAffinity(RaftCluster rc) {
        return new AffinityBuilder().withNewPodAntiAffinity().addNewPreferredDuringSchedulingIgnoredDuringExecution()
                .withWeight(100).withNewPodAffinityTerm().withTopologyKey("kubernetes.io/hostname")
                .withNewLabelSelector().withMatchLabels(selector(rc)).endLabelSelector()
                .endPodAffinityTerm().endPreferredDuringSchedulingIgnoredDuringExecution().endPodAntiAffinity().build();
    }
}

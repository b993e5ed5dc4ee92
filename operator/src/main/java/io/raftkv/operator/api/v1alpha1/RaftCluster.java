package io.raftkv.operator.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A raftkv cluster that the operator keeps running: {@code kubectl apply} one and get a StatefulSet
 * of nodes, its Services, a PodDisruptionBudget and ConfigMaps, all owned by this resource.
 * {@code kubectl get raftclusters} shows replicas, ready, leader, version and age.
 */
@Group(RaftCluster.GROUP)
@Version(RaftCluster.VERSION)
@ShortNames("rkv")
@AdditionalPrinterColumn(name = "Replicas", jsonPath = ".spec.replicas", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.readyReplicas", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Leader", jsonPath = ".status.leader", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Version", jsonPath = ".status.currentVersion", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class RaftCluster extends CustomResource<RaftClusterSpec, RaftClusterStatus> implements Namespaced {
    private static final long serialVersionUID = 1L;

    /** The API group. */
    public static final String GROUP = "raftkv.io";
    /** The served and stored version. */
    public static final String VERSION = "v1alpha1";

    @Override
    protected RaftClusterSpec initSpec() {
        return new RaftClusterSpec();
    }

    @Override
    protected RaftClusterStatus initStatus() {
        return new RaftClusterStatus();
    }
}

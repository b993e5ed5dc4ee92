package io.raftkv.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;

import java.util.List;
import java.util.Map;

/**
 * Scheduling fields copied into the node pod template. A null affinity selects the default:
 * preferred anti-affinity across nodes ({@code kubernetes.io/hostname}), so that one node failure
 * takes at most one member when the cluster has room.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodOverrides {

    @JsonPropertyDescription("Pod affinity; default: prefer one member per Kubernetes node.")
    private Affinity affinity;

    @JsonPropertyDescription("Pod tolerations.")
    private List<Toleration> tolerations;

    @JsonPropertyDescription("Pod node selector.")
    private Map<String, String> nodeSelector;

    @JsonPropertyDescription("Pod topology spread constraints.")
    private List<TopologySpreadConstraint> topologySpreadConstraints;

    /** Affinity, or null for the default anti-affinity. */
    public Affinity getAffinity() {
        return affinity;
    }

    /** Sets the affinity. */
    public void setAffinity(Affinity affinity) {
        this.affinity = affinity;
    }

    /** Tolerations, or null. */
    public List<Toleration> getTolerations() {
        return tolerations;
    }

    /** Sets the tolerations. */
    public void setTolerations(List<Toleration> tolerations) {
        this.tolerations = tolerations;
    }

    /** Node selector, or null. */
    public Map<String, String> getNodeSelector() {
        return nodeSelector;
    }

    /** Sets the node selector. */
    public void setNodeSelector(Map<String, String> nodeSelector) {
        this.nodeSelector = nodeSelector;
    }

    /** Topology spread constraints, or null. */
    public List<TopologySpreadConstraint> getTopologySpreadConstraints() {
        return topologySpreadConstraints;
    }

    /** Sets the topology spread constraints. */
    public void setTopologySpreadConstraints(List<TopologySpreadConstraint> topologySpreadConstraints) {
        this.topologySpreadConstraints = topologySpreadConstraints;
    }
}

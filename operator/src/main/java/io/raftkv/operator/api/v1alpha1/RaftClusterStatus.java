package io.raftkv.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;

import java.util.ArrayList;
import java.util.List;

/**
 * What the operator last observed and did. Written on every reconcile; {@code observedGeneration}
 * tells which spec the rest describes. Conditions are {@code Available}, {@code Progressing} and
 * {@code Degraded} with stable CamelCase reasons (see {@code io.raftkv.operator.plan.Reason}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RaftClusterStatus {

    @JsonPropertyDescription("Coarse state: Creating, Running, Scaling, Upgrading, Replacing, Degraded.")
    private String phase;

    @JsonPropertyDescription("The metadata.generation this status describes.")
    private Long observedGeneration;

    @JsonPropertyDescription("Members in the cluster's member list.")
    private Integer replicas;

    @JsonPropertyDescription("Members that are healthy.")
    private Integer readyReplicas;

    @JsonPropertyDescription("Name of the leading member.")
    private String leader;

    @JsonPropertyDescription("Client Service endpoint, host:port.")
    private String clientEndpoint;

    @JsonPropertyDescription("The version every member runs once an upgrade has finished.")
    private String currentVersion;

    @JsonPropertyDescription("One entry per member of the cluster.")
    private List<MemberStatus> members = new ArrayList<>();

    @JsonPropertyDescription("Available, Progressing and Degraded.")
    private List<Condition> conditions = new ArrayList<>();

    /** Coarse phase. */
    public String getPhase() {
        return phase;
    }

    /** Sets the phase. */
    public void setPhase(String phase) {
        this.phase = phase;
    }

    /** Generation described. */
    public Long getObservedGeneration() {
        return observedGeneration;
    }

    /** Sets the generation described. */
    public void setObservedGeneration(Long observedGeneration) {
        this.observedGeneration = observedGeneration;
    }

    /** Member count. */
    public Integer getReplicas() {
        return replicas;
    }

    /** Sets the member count. */
    public void setReplicas(Integer replicas) {
        this.replicas = replicas;
    }

    /** Healthy member count. */
    public Integer getReadyReplicas() {
        return readyReplicas;
    }

    /** Sets the healthy member count. */
    public void setReadyReplicas(Integer readyReplicas) {
        this.readyReplicas = readyReplicas;
    }

    /** Leader name, or null when there is none. */
    public String getLeader() {
        return leader;
    }

    /** Sets the leader name. */
    public void setLeader(String leader) {
        this.leader = leader;
    }

    /** Client endpoint. */
    public String getClientEndpoint() {
        return clientEndpoint;
    }

    /** Sets the client endpoint. */
    public void setClientEndpoint(String clientEndpoint) {
        this.clientEndpoint = clientEndpoint;
    }

    /** The version all members run, or null during a mixed-version upgrade. */
    public String getCurrentVersion() {
        return currentVersion;
    }

    /** Sets the current version. */
    public void setCurrentVersion(String currentVersion) {
        this.currentVersion = currentVersion;
    }

    /** Member entries. */
    public List<MemberStatus> getMembers() {
        return members;
    }

    /** Sets the member entries. */
    public void setMembers(List<MemberStatus> members) {
        this.members = members;
    }

    /** Conditions. */
    public List<Condition> getConditions() {
        return conditions;
    }

    /** Sets the conditions. */
    public void setConditions(List<Condition> conditions) {
        this.conditions = conditions;
    }
}
